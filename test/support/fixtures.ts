import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { normaliseRemoteSession, type RemoteSession } from '../../lib/sessions/remote-session.js';

/**
/**
 * An EventBridge event fixture from test/fixtures/events, parsed afresh on each call, with an id of
 * its own as EventBridge gives every event (the same object sent twice is a redelivery) and its time
 * set to now: EventBridge delivers within seconds, and drop ignores events older than
 * MAX_EVENT_AGE_MINUTES. `asStored` keeps the file's id.
 */
export function eventFixture(name: string, options: { asStored?: boolean } = {}): Record<string, any> {
  const event = JSON.parse(readFileSync(new URL(`../fixtures/events/${name}.json`, import.meta.url), 'utf8'));
  const now = { ...event, time: new Date().toISOString() };
  return options.asStored || typeof event.id !== 'string' ? now : { ...now, id: randomUUID() };
}

/** The first record of the vendor's documented list answer (GET /api/session/remotesessions). */
export const vendorSessionRecord = {
  id: '3',
  user: 'Admin',
  origin_ip: '172.16.20.125',
  credential: 'usrdomadm01',
  device: '10.66.33.15:3389',
  protocol: 'rdp',
  proxy: 'Web Proxy',
  session_id: 'e7acacb6aedbab70073456da5744166939b77527',
  start: '2024-05-06 16:05:07',
  end: '2024-05-06 16:07:59',
  time: '00:02:52',
  prevent_purge: 'No',
  request: null,
  ITSM: null,
} as const;

/** A session as the normaliser makes it: an open SSH session of jsilva's as root, with `fields` over it. */
export function normalisedSession(fields: Record<string, unknown>): RemoteSession {
  const result = normaliseRemoteSession({
    user: 'jsilva',
    credential: 'root',
    device: '10.66.33.17:22',
    origin_ip: '172.16.20.131',
    protocol: 'ssh',
    end: null,
    ...fields,
  });
  if (!result.ok) throw new Error(result.reason);
  return result.session;
}
