import { describe, expect, it } from 'vitest';
import { addressMatches, blockProblem, parseBlock, refusedAddress } from '../../lib/sessions/ip-address.js';

const block = (text: string) => {
  const parsed = parseBlock(text);
  return parsed && { address: parsed.address.toString(), kind: parsed.address.kind(), prefix: parsed.prefix };
};

describe('CIDR blocks', () => {
  it('takes an address alone as its own block, /32 or /128', () => {
    expect(block('10.0.0.7')).toEqual({ address: '10.0.0.7', kind: 'ipv4', prefix: 32 });
    expect(block('2001:db8::7')).toEqual({ address: '2001:db8::7', kind: 'ipv6', prefix: 128 });
    expect(addressMatches('10.0.0.8', '10.0.0.7')).toBe(false);
  });

  it('accepts the longest prefix of each family and refuses one past it', () => {
    expect(block('10.0.0.7/32')).toMatchObject({ prefix: 32 });
    expect(block('2001:db8::7/128')).toMatchObject({ prefix: 128 });
    expect(blockProblem('10.0.0.7/33')).toBe('has a prefix that is not /0 to /32');
    expect(blockProblem('2001:db8::7/129')).toBe('has a prefix that is not /0 to /128');
  });

  it('refuses a prefix with anything but one to three digits', () => {
    for (const text of ['10.0.0.0/x24', '10.0.0.0/24x', '10.0.0.0/', '10.0.0.0/0024'])
      expect(blockProblem(text), text).toBe('has a prefix that is not /0 to /32');
  });

  it('reads a block with spaces around it', () => {
    expect(block(' 10.0.0.0/24 ')).toEqual({ address: '10.0.0.0', kind: 'ipv4', prefix: 24 });
  });

  it('takes a block inside ::ffff:0:0/96 as IPv4, and a wider one as IPv6 that matches no IPv4 address', () => {
    expect(block('::ffff:10.0.0.0/104')).toEqual({ address: '10.0.0.0', kind: 'ipv4', prefix: 8 });
    expect(addressMatches('10.1.2.3', '::ffff:10.0.0.0/104')).toBe(true);
    expect(block('::ffff:10.0.0.0/64')).toMatchObject({ kind: 'ipv6', prefix: 64 });
    expect(addressMatches('10.1.2.3', '::ffff:10.0.0.0/64')).toBe(false);
  });
});

describe('addresses refused as ambiguous', () => {
  it('calls digits and dots that node:net does not take ambiguous, not "not an address"', () => {
    expect(refusedAddress('1.2.3.4.5')).toMatch(/^is not written in the standard form/);
    expect(refusedAddress('010.1.1.1')).toMatch(/^is not written in the standard form/);
    expect(refusedAddress('db01.corp')).toBeUndefined();
  });
});
