import { isIP } from 'node:net';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { parseAddress, parseBlock } from '../../lib/sessions/ip-address.js';
import { deviceProblem, sessionMatches } from '../../lib/sessions/session-match.js';
import { normalisedSession } from '../support/fixtures.js';

const session = (fields: Record<string, unknown>) =>
  normalisedSession({ session_id: 'abc', credential: 'Root', ...fields });

describe('sessionMatches', () => {
  const s = session({});

  it('compares user, credential and protocol case-insensitively', () => {
    expect(sessionMatches(s, { user: 'JSilva' })).toBe(true);
    expect(sessionMatches(s, { credential: 'root' })).toBe(true);
    expect(sessionMatches(s, { protocol: 'SSH' })).toBe(true);
    expect(sessionMatches(s, { user: 'jsilv' })).toBe(false);
  });

  it('compares user and credential as names: composed or not, any width, with the domain the criteria give', () => {
    const joao = session({ user: 'CORP\\joa\u0303o', credential: 'ＲＯＯＴ' });
    expect(sessionMatches(joao, { user: 'joão' })).toBe(true);
    expect(sessionMatches(joao, { user: 'corp\\JOÃO' })).toBe(true);
    expect(sessionMatches(joao, { user: 'OTHER\\joão' })).toBe(false);
    expect(sessionMatches(joao, { user: 'joão@corp.example' })).toBe(false);
    expect(sessionMatches(joao, { credential: 'root' })).toBe(true);
    expect(sessionMatches(session({ user: 'joão' }), { user: 'CORP\\joão' })).toBe(false);
  });

  it('matches the device by host with or without its port', () => {
    expect(sessionMatches(s, { device: '10.66.33.17' })).toBe(true);
    expect(sessionMatches(s, { device: '10.66.33.17:22' })).toBe(true);
    expect(sessionMatches(s, { device: '10.66.33.17:3389' })).toBe(false);
    expect(sessionMatches(s, { device: '10.66.33.1' })).toBe(false);
    // A port out of range is a mistake, never "any port" (a request with one is refused before this).
    expect(sessionMatches(s, { device: '10.66.33.17:0' })).toBe(false);
    expect(sessionMatches(s, { device: '10.66.33.17:65558' })).toBe(false);
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

  it('criteria of empty fields select nothing, even a session whose field is empty too', () => {
    const blank = session({ protocol: '' });
    expect(sessionMatches(blank, { protocol: '' })).toBe(false);
  });

  it('refuses a credential criterion the session does not have, whatever else matches', () => {
    expect(sessionMatches(s, { credential: 'administrator' })).toBe(false);
    expect(sessionMatches(s, { user: 'jsilva', credential: 'administrator' })).toBe(false);
  });

  it('ignores spaces around a protocol or a device, on either side', () => {
    expect(sessionMatches(s, { protocol: ' SSH ' })).toBe(true);
    expect(sessionMatches(session({ protocol: ' ssh ' }), { protocol: 'ssh' })).toBe(true);
    expect(sessionMatches(s, { device: ' 10.66.33.17:22 ' })).toBe(true);
  });

  it('takes ports 1 and 65535 as ports', () => {
    expect(sessionMatches(session({ device: '10.66.33.17:1' }), { device: '10.66.33.17:1' })).toBe(true);
    expect(sessionMatches(session({ device: '10.66.33.17:65535' }), { device: '10.66.33.17:65535' })).toBe(true);
    expect(deviceProblem('10.66.33.17:1')).toBeUndefined();
    expect(deviceProblem('10.66.33.17:65535')).toBeUndefined();
  });

  it('reads a bracketed address only when the brackets are the whole host', () => {
    const v6 = session({ device: '[2001:db8::1]:22' });
    expect(sessionMatches(v6, { device: '[2001:db8::1]' })).toBe(true);
    expect(sessionMatches(v6, { device: 'x[2001:db8::1]' })).toBe(false);
    expect(sessionMatches(v6, { device: '[2001:db8::1]x' })).toBe(false);
    expect(deviceProblem('x[2001:db8::1]')).toBeDefined();
    expect(deviceProblem('[2001:db8::1]x')).toBeDefined();
  });

  it('says a device criterion with a port and no host has no host', () => {
    expect(deviceProblem(':22')).toContain('no host');
    expect(deviceProblem(' :22')).toContain('no host');
  });
});

describe('addresses compared as addresses', () => {
  const from = (origin_ip: string) => session({ origin_ip });
  const into = (device: string) => session({ device });

  it('cuts an origin written as IPv4-mapped IPv6 (the seen bug: the attacker was not cut)', () => {
    const attacker = from('::ffff:203.0.113.77');
    expect(sessionMatches(attacker, { origin_ip: '203.0.113.77' })).toBe(true);
    expect(sessionMatches(attacker, { origin_ip: '203.0.113.0/24' })).toBe(true);
    expect(sessionMatches(from('::FFFF:CB00:714D'), { origin_ip: '203.0.113.77' })).toBe(true);
    expect(sessionMatches(attacker, { origin_ip: '203.0.113.78' })).toBe(false);
  });

  it('reads an IPv4-mapped IPv6 address or block in the criteria as IPv4', () => {
    const s = from('203.0.113.77');
    expect(sessionMatches(s, { origin_ip: '::ffff:203.0.113.77' })).toBe(true);
    expect(sessionMatches(s, { origin_ip: '::ffff:203.0.113.0/120' })).toBe(true);
    expect(sessionMatches(s, { origin_ip: '::ffff:203.0.114.0/120' })).toBe(false);
    expect(sessionMatches(into('10.66.33.17:22'), { device: '::ffff:10.66.33.17' })).toBe(true);
    expect(sessionMatches(into('10.66.33.17:22'), { device: '[::ffff:10.66.33.17]:22' })).toBe(true);
    expect(sessionMatches(into('[::ffff:10.66.33.17]:22'), { device: '10.66.33.17:22' })).toBe(true);
  });

  it('compares IPv6 in any of its written forms', () => {
    expect(sessionMatches(from('2001:0db8::0001'), { origin_ip: '2001:db8::1' })).toBe(true);
    expect(sessionMatches(from('2001:db8::1'), { origin_ip: '2001:0DB8:0:0:0:0:0:1' })).toBe(true);
    expect(sessionMatches(from('2001:db8::1'), { origin_ip: '2001:0db8::/32' })).toBe(true);
    expect(sessionMatches(into('[2001:db8::10]:22'), { device: '2001:0db8::0010' })).toBe(true);
  });

  it('matches a bracketed IPv6 device with its port, by address and by port', () => {
    const s = into('[2001:db8::10]:22');
    expect(sessionMatches(s, { device: '2001:db8::10' })).toBe(true);
    expect(sessionMatches(s, { device: '[2001:db8::10]' })).toBe(true);
    expect(sessionMatches(s, { device: '[2001:db8::10]:22' })).toBe(true);
    expect(sessionMatches(s, { device: '[2001:db8::10]:3389' })).toBe(false);
    expect(sessionMatches(s, { device: '2001:db8::11' })).toBe(false);
  });

  it('compares the address part of an origin PAM wrote with a port', () => {
    expect(sessionMatches(from('203.0.113.77:51234'), { origin_ip: '203.0.113.77' })).toBe(true);
    expect(sessionMatches(from('203.0.113.77:51234'), { origin_ip: '203.0.113.0/24' })).toBe(true);
    expect(sessionMatches(from('[2001:db8::1]:51234'), { origin_ip: '2001:db8::1' })).toBe(true);
    expect(sessionMatches(from('[::ffff:203.0.113.77]:51234'), { origin_ip: '203.0.113.77' })).toBe(true);
  });

  it('never guesses a leading-zero octet as octal or decimal: such a record matches no address', () => {
    // ipaddr.js alone would read 077 as octal (63); inet_aton too. Neither reading is taken.
    for (const wanted of ['203.0.113.77', '203.0.113.63', '203.0.113.0/24', '0.0.0.0/0']) {
      expect(sessionMatches(from('203.000.113.077'), { origin_ip: wanted })).toBe(false);
      expect(sessionMatches(from('::ffff:203.000.113.077'), { origin_ip: wanted })).toBe(false);
    }
    expect(sessionMatches(into('010.066.033.017:22'), { device: '10.66.33.17' })).toBe(false);
    expect(sessionMatches(into('010.066.033.017:22'), { device: '10.66.33.15' })).toBe(false);
    // Criteria written so (they never get past a request's validation) match nothing, not even the same text.
    expect(sessionMatches(into('010.066.033.017:22'), { device: '010.066.033.017' })).toBe(false);
    expect(sessionMatches(from('203.0.113.77'), { origin_ip: '203.000.113.077' })).toBe(false);
  });

  it('takes no other inet_aton shorthand for an address', () => {
    expect(sessionMatches(from('10.1'), { origin_ip: '10.0.0.1' })).toBe(false);
    expect(sessionMatches(from('0x0a.0.0.1'), { origin_ip: '10.0.0.1' })).toBe(false);
    expect(sessionMatches(into('167772161'), { device: '10.0.0.1' })).toBe(false);
  });

  it('reads ::a.b.c.d (deprecated IPv4-compatible) as the IPv6 address it spells, not as IPv4', () => {
    expect(sessionMatches(from('::203.0.113.77'), { origin_ip: '203.0.113.77' })).toBe(false);
    expect(sessionMatches(from('::203.0.113.77'), { origin_ip: '::cb00:714d' })).toBe(true);
  });

  it('never matches an address with a zone (it names a link of one host, not an address)', () => {
    expect(sessionMatches(from('fe80::1%eth0'), { origin_ip: 'fe80::1' })).toBe(false);
    expect(sessionMatches(from('fe80::1%eth0'), { origin_ip: 'fe80::/64' })).toBe(false);
  });

  it('keeps IPv4 and IPv6 blocks apart: an IPv6 block wider than ::ffff:0:0/96 matches no IPv4 session', () => {
    expect(sessionMatches(from('203.0.113.77'), { origin_ip: '::/64' })).toBe(false);
    expect(sessionMatches(from('::ffff:203.0.113.77'), { origin_ip: '::/64' })).toBe(false);
    expect(sessionMatches(from('::ffff:203.0.113.77'), { origin_ip: '::ffff:0:0/96' })).toBe(true);
  });

  it('still matches a hostname device case-insensitively, as text', () => {
    const s = into('DB-PROD-01.corp.example:1521');
    expect(sessionMatches(s, { device: 'db-prod-01.CORP.example:1521' })).toBe(true);
    expect(sessionMatches(s, { device: 'db-prod-01' })).toBe(false);
    expect(sessionMatches(into('10.66.33.17:22'), { device: 'db-prod-01.corp.example' })).toBe(false);
  });
});

const octets = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
const dotted = (o: number[]) => o.join('.');
const hex16 = (high: number, low: number) => ((high << 8) | low).toString(16);
/** The ways PAM or a request may write one IPv4 address. */
const ipv4Forms = (o: number[]) => [
  dotted(o),
  `::ffff:${dotted(o)}`,
  `::FFFF:${dotted(o)}`,
  `0:0:0:0:0:ffff:${dotted(o)}`,
  `::ffff:${hex16(o[0] ?? 0, o[1] ?? 0)}:${hex16(o[2] ?? 0, o[3] ?? 0)}`,
];
const toInt = (o: number[]) => o.reduce((value, octet) => value * 256 + octet, 0);

describe('addresses, for any address', () => {
  it('an IPv4 origin matches itself in every form, on both sides, with or without a port', () => {
    fc.assert(
      fc.property(octets, fc.integer({ min: 1, max: 65535 }), (o, port) => {
        for (const origin of ipv4Forms(o)) {
          for (const wanted of ipv4Forms(o)) {
            expect(sessionMatches(session({ origin_ip: origin }), { origin_ip: wanted })).toBe(true);
            expect(sessionMatches(session({ device: `[${origin}]:${port}` }), { device: wanted })).toBe(true);
          }
        }
        expect(sessionMatches(session({ origin_ip: `${dotted(o)}:${port}` }), { origin_ip: dotted(o) })).toBe(true);
      }),
    );
  });

  it('an IPv4 block contains exactly the addresses whose first bits agree, whatever the forms', () => {
    fc.assert(
      fc.property(octets, octets, fc.integer({ min: 0, max: 32 }), (address, network, prefix) => {
        const shift = 2 ** (32 - prefix);
        const inside = Math.floor(toInt(address) / shift) === Math.floor(toInt(network) / shift);
        for (const origin of ipv4Forms(address)) {
          const s = session({ origin_ip: origin });
          expect(sessionMatches(s, { origin_ip: `${dotted(network)}/${prefix}` })).toBe(inside);
          expect(sessionMatches(s, { origin_ip: `::ffff:${dotted(network)}/${prefix + 96}` })).toBe(inside);
        }
      }),
    );
  });

  it('an IPv6 address matches itself compressed, in full with leading zeros, in capitals, and no other', () => {
    const groups = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(groups, groups, (parts, other) => {
        const full = parts.map((part) => part.toString(16).padStart(4, '0')).join(':');
        const forms = [full, full.toUpperCase(), ipaddr.IPv6.parse(full).toRFC5952String()];
        for (const origin of forms)
          for (const wanted of forms)
            expect(sessionMatches(session({ origin_ip: origin }), { origin_ip: wanted })).toBe(true);
        const otherText = other.map((part) => part.toString(16)).join(':');
        const same = other.every((part, index) => part === parts[index]);
        expect(sessionMatches(session({ origin_ip: full }), { origin_ip: otherText })).toBe(same);
      }),
    );
  });
});

describe('reading addresses, for any text', () => {
  const addressy = fc.string({ unit: fc.constantFrom(...'0123456789abcdefxABCDEF.:%/[]'), maxLength: 40 });

  it('never throws, takes an address only where node:net sees one, and a session matches its own address', () => {
    // Mostly addresses written as PAM or an analyst may (IPv4, IPv6 in full or compressed, padded); sometimes any text.
    const ipv6 = fc
      .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
      .chain((parts) =>
        fc.constantFrom(
          parts.map((part) => part.toString(16)).join(':'),
          parts.map((part) => part.toString(16).padStart(4, '0').toUpperCase()).join(':'),
          ipaddr.IPv6.parse(parts.map((part) => part.toString(16)).join(':')).toRFC5952String(),
        ),
      );
    const written = fc
      .tuple(fc.oneof(octets.map(dotted), ipv6), fc.constantFrom('', ' ', '  '))
      .map(([address, pad]) => ({ text: `${pad}${address}${pad}`, address: true }));
    const other = fc.oneof(addressy, fc.string()).map((text) => ({ text, address: false }));
    let read = 0;
    let runs = 0;
    fc.assert(
      fc.property(fc.oneof({ arbitrary: written, weight: 4 }, { arbitrary: other, weight: 1 }), ({ text, address }) => {
        runs += 1;
        const parsed = parseAddress(text);
        parseBlock(text);
        if (address) expect(parsed, text).toBeDefined();
        if (parsed === undefined) return;
        read += 1;
        expect(isIP(text.trim())).not.toBe(0);
        expect(sessionMatches(session({ origin_ip: text, device: text }), { origin_ip: text, device: text })).toBe(
          true,
        );
      }),
      { numRuns: 2000 },
    );
    expect(read / runs).toBeGreaterThanOrEqual(0.5);
  });

  it('never reads an IPv4 address written with a leading zero, alone or mapped', () => {
    const part = fc.oneof(
      fc.nat(255).map(String),
      fc.nat(255).map((n) => `0${n}`),
    );
    fc.assert(
      fc.property(fc.tuple(part, part, part, part), (parts) => {
        fc.pre(parts.some((p) => p.length > 1 && p.startsWith('0')));
        const text = parts.join('.');
        expect(parseAddress(text)).toBeUndefined();
        expect(parseAddress(`::ffff:${text}`)).toBeUndefined();
        expect(parseBlock(`${text}/24`)).toBeUndefined();
      }),
    );
  });
});

describe('parseBlock', () => {
  it.each(['10.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '2001:db8::/32', '::1'])('accepts %s', (value) =>
    expect(parseBlock(value)).toBeDefined(),
  );
  it.each(['10.0.0.0/33', '10.0.0/8', 'host', '10.0.0.0/8/1', '2001:db8::/129', '10.0.0.0/'])('refuses %s', (value) =>
    expect(parseBlock(value)).toBeUndefined(),
  );
});
