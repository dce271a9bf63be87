import { describe, expect, it } from 'vitest';
import { seedSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { ValidationError } from '../../lib/core/errors.js';
import { normaliseRemoteSession, type RemoteSession } from '../../lib/sessions/remote-session.js';
import { filterSessions, parseListQuery } from '../../lib/sessions/session-filter.js';

const sessions: RemoteSession[] = seedSessions(Date.UTC(2026, 10, 23, 10)).map((raw) => {
  const result = normaliseRemoteSession(raw);
  if (!result.ok) throw new Error(result.reason);
  return result.session;
});

describe('parseListQuery', () => {
  it('accepts no filter at all', () => {
    expect(parseListQuery(undefined)).toEqual({});
    expect(parseListQuery({})).toEqual({});
  });

  it('reads every documented filter', () => {
    expect(
      parseListQuery({
        active: 'false',
        user: 'jsilva',
        origin_ip: '10.0.0.1',
        device: 'db',
        protocol: 'ssh',
        credential: 'root',
      }),
    ).toEqual({
      active: false,
      user: 'jsilva',
      origin_ip: '10.0.0.1',
      device: 'db',
      protocol: 'ssh',
      credential: 'root',
    });
  });

  it.each([
    [{ active: 'yes' }, 'active must be "true" or "false"'],
    [{ user: '' }, 'user must not be empty'],
    [{ user: '   ' }, 'user must not be empty'],
    [{ device: 'x'.repeat(300) }, 'device must be at most 256 characters'],
    [
      { actve: 'true' },
      'unknown filter "actve"; use source, active, user, origin_ip, device, protocol, credential, limit or cursor',
    ],
  ])('refuses %j with a clear message', (query, message) => {
    expect(() => parseListQuery(query as Record<string, string>)).toThrow(new ValidationError(message));
  });
});

describe('filterSessions', () => {
  it('keeps only active sessions when asked', () => {
    const active = filterSessions(sessions, { active: true });
    expect(active.length).toBeGreaterThan(0);
    expect(active.every((session) => session.end === null)).toBe(true);
    expect(filterSessions(sessions, { active: false }).length).toBe(sessions.length - active.length);
  });

  it('combines filters by exact match', () => {
    const result = filterSessions(sessions, { user: 'aoliveira', protocol: 'ssh', active: true });
    expect(result.map((session) => session.credential).sort()).toEqual(['ec2-user', 'root']);
    expect(filterSessions(sessions, { user: 'AOLIVEIRA' })).toEqual([]);
  });

  it('matches a device by host:port or by host alone', () => {
    expect(filterSessions(sessions, { device: '10.66.33.15:3389' }).length).toBe(2);
    expect(filterSessions(sessions, { device: '10.66.33.15' }).length).toBe(2);
    expect(filterSessions(sessions, { device: '10.66.33.1' })).toEqual([]);
  });

  it.each(['origin_ip', 'protocol', 'credential'] as const)(
    'keeps by %s exactly the sessions that have it, and none for a value nobody has',
    (field) => {
      const wanted = sessions[0]?.[field] ?? '';
      const expected = sessions.filter((session) => session[field] === wanted);
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(sessions.length);
      expect(filterSessions(sessions, { [field]: wanted })).toEqual(expected);
      expect(filterSessions(sessions, { [field]: `${wanted}-nobody` })).toEqual([]);
    },
  );
});

describe('the query string', () => {
  it('reads active=true as true', () => {
    expect(parseListQuery({ active: 'true', source: 'live', limit: '5000', cursor: 'abc' })).toEqual({
      active: true,
      source: 'live',
      limit: 5_000,
      cursor: 'abc',
    });
  });

  it('names every unknown filter', () => {
    expect(() => parseListQuery({ actve: 'true', usr: 'x' })).toThrow(
      new ValidationError(
        'unknown filter "actve", "usr"; use source, active, user, origin_ip, device, protocol, credential, limit or cursor',
      ),
    );
  });
});
