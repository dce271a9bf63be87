import { describe, expect, it } from 'vitest';
import { isAddressOrCidr } from '../../lib/sessions/ip-address.js';
import { normaliseRemoteSession, type RemoteSession } from '../../lib/sessions/remote-session.js';
import { sessionMatches } from '../../lib/sessions/session-match.js';

function session(fields: Record<string, unknown>): RemoteSession {
  const result = normaliseRemoteSession({
    session_id: 'abc',
    user: 'jsilva',
    credential: 'Root',
    device: '10.66.33.17:22',
    origin_ip: '172.16.20.131',
    protocol: 'ssh',
    end: null,
    ...fields,
  });
  if (!result.ok) throw new Error(result.reason);
  return result.session;
}

describe('sessionMatches', () => {
  const s = session({});

  it('compares user, credential and protocol case-insensitively', () => {
    expect(sessionMatches(s, { user: 'JSilva' })).toBe(true);
    expect(sessionMatches(s, { credential: 'root' })).toBe(true);
    expect(sessionMatches(s, { protocol: 'SSH' })).toBe(true);
    expect(sessionMatches(s, { user: 'jsilv' })).toBe(false);
  });

  it('matches the device by host with or without its port', () => {
    expect(sessionMatches(s, { device: '10.66.33.17' })).toBe(true);
    expect(sessionMatches(s, { device: '10.66.33.17:22' })).toBe(true);
    expect(sessionMatches(s, { device: '10.66.33.17:3389' })).toBe(false);
    expect(sessionMatches(s, { device: '10.66.33.1' })).toBe(false);
    expect(
      sessionMatches(session({ device: 'DB-PROD-01.corp.example:1521' }), { device: 'db-prod-01.corp.example' }),
    ).toBe(true);
  });

  it('matches origin_ip by address or CIDR block', () => {
    expect(sessionMatches(s, { origin_ip: '172.16.20.131' })).toBe(true);
    expect(sessionMatches(s, { origin_ip: '172.16.20.0/24' })).toBe(true);
    expect(sessionMatches(s, { origin_ip: '172.16.21.0/24' })).toBe(false);
    expect(sessionMatches(s, { origin_ip: '0.0.0.0/0' })).toBe(true);
    expect(sessionMatches(s, { origin_ip: '::/0' })).toBe(false);
    expect(sessionMatches(session({ origin_ip: '2001:db8::5' }), { origin_ip: '2001:db8::/64' })).toBe(true);
    expect(sessionMatches(session({ origin_ip: null }), { origin_ip: '0.0.0.0/0' })).toBe(false);
  });

  it('requires every given field (AND)', () => {
    expect(sessionMatches(s, { user: 'jsilva', origin_ip: '172.16.20.0/24', protocol: 'ssh' })).toBe(true);
    expect(sessionMatches(s, { user: 'jsilva', protocol: 'rdp' })).toBe(false);
  });

  it('never selects anything with empty criteria', () => {
    expect(sessionMatches(s, {})).toBe(false);
    expect(sessionMatches(s, { user: undefined, device: '' })).toBe(false);
  });
});

describe('isAddressOrCidr', () => {
  it.each(['10.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '2001:db8::/32', '::1'])('accepts %s', (value) =>
    expect(isAddressOrCidr(value)).toBe(true),
  );
  it.each(['10.0.0.0/33', '10.0.0/8', 'host', '10.0.0.0/8/1', '2001:db8::/129', '10.0.0.0/'])('refuses %s', (value) =>
    expect(isAddressOrCidr(value)).toBe(false),
  );
});
