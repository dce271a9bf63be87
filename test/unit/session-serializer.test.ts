import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { serializeSessions } from '../../lib/inventory/session-serializer.js';
import { normaliseRemoteSession, type RemoteSession } from '../../lib/sessions/remote-session.js';

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('},{"id":', '"},{"id":"x', '\\', '\n', '\u2028'),
);

const sessionArbitrary = fc
  .record({
    id: fc.option(text),
    session_id: text.filter((value) => value !== ''),
    user: fc.option(text),
    device: fc.option(text),
    end: fc.option(text),
  })
  .map((raw) => {
    const result = normaliseRemoteSession(raw);
    if (!result.ok) throw new Error(result.reason);
    return result.session;
  });

describe('JSON Lines', () => {
  const jsonl = (sessions: RemoteSession[]) => serializeSessions(sessions, 'jsonl', false).toString('utf8');

  it('writes one line per session that parses back to it, whatever the strings hold', () => {
    fc.assert(
      fc.property(fc.array(sessionArbitrary, { maxLength: 8 }), (sessions: RemoteSession[]) => {
        const written = jsonl(sessions);
        const lines = written === '' ? [] : written.slice(0, -1).split('\n');
        expect(written === '' || written.endsWith('\n')).toBe(true);
        expect(lines.map((line: string) => JSON.parse(line))).toEqual(sessions);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('CSV', () => {
  it('writes the header when asked, and quotes what needs quoting', () => {
    const [session] = [
      normaliseRemoteSession({ session_id: 'a', user: 'x,"y"', device: '10.0.0.1:22', end: null }),
    ].map((result) => (result.ok ? result.session : undefined));
    const csv = (sessions: RemoteSession[], header: boolean) =>
      serializeSessions(sessions, 'csv', header).toString('utf8');
    expect(csv([], false)).toBe('');
    expect(csv([], true)).toBe(
      'id,session_id,user,origin_ip,credential,device,protocol,proxy,start,end,time,prevent_purge,request,ITSM,active,device_host,device_port\n',
    );
    expect(csv(session ? [session] : [], false)).toBe(',a,"x,""y""",,,10.0.0.1:22,,,,,,,,,true,10.0.0.1,22\n');
  });
});
