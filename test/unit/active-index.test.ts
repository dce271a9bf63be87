import { describe, expect, it } from 'vitest';
import { type ActiveIndex, CorruptIndexError, indexAgeMs, parseActiveIndex } from '../../lib/inventory/active-index.js';
import { normaliseRemoteSession, type RemoteSession } from '../../lib/sessions/remote-session.js';

function session(fields: Record<string, unknown>): RemoteSession {
  const result = normaliseRemoteSession({ user: 'jsilva', device: 'db:1521', end: null, ...fields });
  if (!result.ok) throw new Error(result.reason);
  return result.session;
}

const active = session({ session_id: '7' });
const ended = { ...session({ session_id: '5', end: '2026-12-06 22:00:00' }), seen_ended_at: '2026-12-06T22:01:00Z' };

function index(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    listed_at: '2026-12-07T00:00:00Z',
    list_duration_ms: 120,
    history_size: 2,
    malformed: 0,
    active: [active],
    recently_ended: [ended],
    ...fields,
  };
}

const corruption = (value: unknown) => {
  try {
    parseActiveIndex(typeof value === 'string' ? value : JSON.stringify(value));
  } catch (error) {
    expect(error).toBeInstanceOf(CorruptIndexError);
    expect((error as Error).name).toBe('CorruptIndexError');
    return (error as Error).message;
  }
  return undefined;
};

describe('parseActiveIndex', () => {
  it('reads a well-formed index into lookups by session id', () => {
    const view = parseActiveIndex(JSON.stringify(index()));
    expect([...view.active.keys()]).toEqual(['7']);
    expect(view.active.get('7')).toEqual(active);
    expect([...view.ended.keys()]).toEqual(['5']);
    expect(view.ended.get('5')?.seen_ended_at).toBe('2026-12-06T22:01:00Z');
    expect(view.index.history_size).toBe(2);
  });

  it('says what is wrong with text that is not an index', () => {
    expect(corruption('{"version":')).toBe('it is not valid JSON');
    expect(corruption(index({ version: 2 }))).toMatch(/^version: /);
    expect(corruption(index({ list_duration_ms: -1 }))).toMatch(/^list_duration_ms: /);
    // The first problem only, named by its full path.
    const nested = corruption(index({ lookup_window: { started_at: 'now', lookups: 1 }, malformed: -1 }));
    expect(nested).toMatch(/^lookup_window\.started_at: /);
    expect(nested).not.toContain('malformed');
  });

  const malformed: Array<[string, Record<string, unknown> | null | string]> = [
    ['null', null],
    ['a string', 'session 7'],
    ['no session_id', { ...active, session_id: undefined }],
    ['a numeric session_id', { ...active, session_id: 7 }],
    ['an empty session_id', { ...active, session_id: '' }],
    ['no active flag', { ...active, active: undefined }],
    ['a text active flag', { ...active, active: 'true' }],
    ['a text port', { ...active, device_port: '1521' }],
    ['no port field', { ...active, device_port: undefined }],
    ['a numeric user', { ...active, user: 42 }],
    ['a missing device', { ...active, device: undefined }],
    ['an object end', { ...active, end: {} }],
  ];

  it.each(malformed)('refuses an active entry with %s, naming its position', (_, entry) => {
    expect(corruption(index({ active: [active, entry] }))).toBe('active.1: not a session');
    expect(corruption(index({ active: [entry, active] }))).toBe('active.0: not a session');
  });

  it.each(malformed)('refuses an ended entry with %s, naming its position', (_, entry) => {
    const withSeen =
      entry !== null && typeof entry === 'object' ? { ...entry, seen_ended_at: ended.seen_ended_at } : entry;
    expect(corruption(index({ recently_ended: [ended, withSeen] }))).toBe('recently_ended.1: not a session');
    expect(corruption(index({ recently_ended: [withSeen, ended] }))).toBe('recently_ended.0: not a session');
  });

  it('takes a session with null fields and no port, and requires a readable seen_ended_at of an ended one only', () => {
    const bare = { ...active, session_id: '8', user: null, device_port: null, device: null };
    expect(corruption(index({ active: [bare] }))).toBeUndefined();
    expect(corruption(index({ recently_ended: [{ ...ended, seen_ended_at: undefined }] }))).toBe(
      'recently_ended.0: not a session',
    );
    expect(corruption(index({ recently_ended: [{ ...ended, seen_ended_at: 'yesterday' }] }))).toBe(
      'recently_ended.0: not a session',
    );
    expect(corruption(index({ active: [{ ...active, seen_ended_at: 'yesterday' }] }))).toBeUndefined();
  });
});

describe('indexAgeMs', () => {
  const listed = { listed_at: '2026-12-07T00:00:00.000Z' } as ActiveIndex;
  const at = Date.parse(listed.listed_at);

  it('measures from listed_at', () => {
    expect(indexAgeMs(listed, at)).toBe(0);
    expect(indexAgeMs(listed, at + 90_000)).toBe(90_000);
  });

  it('reads an index up to a minute in the future as new, and one further as infinitely old', () => {
    expect(indexAgeMs(listed, at - 1)).toBe(0);
    expect(indexAgeMs(listed, at - 60_000)).toBe(0);
    expect(indexAgeMs(listed, at - 60_001)).toBe(Number.POSITIVE_INFINITY);
  });
});
