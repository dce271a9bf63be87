import { describe, expect, it } from 'vitest';
import { matchesEventPattern as matches } from '../../infra/event-patterns/event-pattern.js';

// Cases follow the EventBridge user guide's "Event patterns" and "Content filtering" pages.
describe('EventBridge pattern matching', () => {
  const event = {
    source: 'aws.ec2',
    'detail-type': 'EC2 Instance State-change Notification',
    resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890abcdef0'],
    detail: {
      state: 'running',
      'instance-id': 'i-1234567890abcdef0',
      count: 5,
      ip: '10.0.0.17',
      tags: ['a', 'b'],
      nested: { flag: false },
      empty: null,
    },
  };

  it('matches exact values, any of the listed ones, and requires every field', () => {
    expect(matches({ source: ['aws.ec2'] }, event)).toBe(true);
    expect(matches({ source: ['aws.s3', 'aws.ec2'], detail: { state: ['running'] } }, event)).toBe(true);
    expect(matches({ source: ['aws.ec2'], detail: { state: ['stopped'] } }, event)).toBe(false);
    expect(matches({ detail: { missing: ['x'] } }, event)).toBe(false);
  });

  it('compares types strictly: "5" is not 5, and null matches only null', () => {
    expect(matches({ detail: { count: [5] } }, event)).toBe(true);
    expect(matches({ detail: { count: ['5'] } }, event)).toBe(false);
    expect(matches({ detail: { empty: [null] } }, event)).toBe(true);
    expect(matches({ detail: { nested: { flag: [false] } } }, event)).toBe(true);
  });

  it('matches an array in the event when any element matches', () => {
    expect(matches({ detail: { tags: ['b'] } }, event)).toBe(true);
    expect(matches({ resources: [{ prefix: 'arn:aws:ec2:' }] }, event)).toBe(true);
    expect(matches({ detail: { tags: ['c'] } }, event)).toBe(false);
  });

  it('supports prefix, suffix and equals-ignore-case', () => {
    expect(matches({ detail: { 'instance-id': [{ prefix: 'i-12' }] } }, event)).toBe(true);
    expect(matches({ detail: { 'instance-id': [{ prefix: 'i-99' }] } }, event)).toBe(false);
    expect(matches({ detail: { 'instance-id': [{ suffix: 'def0' }] } }, event)).toBe(true);
    expect(matches({ detail: { state: [{ 'equals-ignore-case': 'RUNNING' }] } }, event)).toBe(true);
    expect(matches({ detail: { count: [{ prefix: '5' }] } }, event)).toBe(false);
  });

  it('supports numeric ranges, on numbers only', () => {
    expect(matches({ detail: { count: [{ numeric: ['>', 0, '<=', 5] }] } }, event)).toBe(true);
    expect(matches({ detail: { count: [{ numeric: ['>=', 7] }] } }, event)).toBe(false);
    expect(matches({ detail: { count: [{ numeric: ['=', 5] }] } }, event)).toBe(true);
    expect(matches({ detail: { state: [{ numeric: ['>', 0] }] } }, event)).toBe(false);
    expect(matches({ detail: { count: [{ numeric: ['>=', '5'] }] } }, event)).toBe(false);
  });

  it('supports exists on leaves, true and false', () => {
    expect(matches({ detail: { state: [{ exists: true }] } }, event)).toBe(true);
    expect(matches({ detail: { missing: [{ exists: false }] } }, event)).toBe(true);
    expect(matches({ detail: { state: [{ exists: false }] } }, event)).toBe(false);
    expect(matches({ detail: { missing: [{ exists: true }] } }, event)).toBe(false);
    expect(matches({ detail: { nested: [{ exists: true }] } }, event)).toBe(false);
  });

  it('supports anything-but with one value, a list, or a prefix; a missing field does not match', () => {
    expect(matches({ detail: { state: [{ 'anything-but': 'stopped' }] } }, event)).toBe(true);
    expect(matches({ detail: { state: [{ 'anything-but': ['stopped', 'running'] }] } }, event)).toBe(false);
    expect(matches({ detail: { state: [{ 'anything-but': { prefix: 'run' } }] } }, event)).toBe(false);
    expect(matches({ detail: { missing: [{ 'anything-but': 'x' }] } }, event)).toBe(false);
    expect(
      matches({ source: [{ 'anything-but': 'pam.session-responder' }] }, { source: 'pam.session-responder' }),
    ).toBe(false);
  });

  it('supports wildcard: a star for any run of characters, escapes for a star and a backslash', () => {
    const arn = { arn: 'arn:aws-us-gov:securityhub:us-gov-west-1::product/aws/guardduty' };
    expect(matches({ arn: [{ wildcard: 'arn:*:securityhub:*::product/aws/*' }] }, arn)).toBe(true);
    expect(matches({ arn: [{ wildcard: 'arn:*:securityhub:*::product/aws/*' }] }, { arn: 'x' })).toBe(false);
    expect(
      matches(
        { arn: [{ wildcard: 'arn:*:securityhub:*::product/aws/*' }] },
        { arn: 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default' },
      ),
    ).toBe(false);
    // Anchored at both ends, and a star may stand for nothing.
    expect(matches({ v: [{ wildcard: 'a*' }] }, { v: 'ba' })).toBe(false);
    expect(matches({ v: [{ wildcard: 'a*b' }] }, { v: 'ab' })).toBe(true);
    expect(matches({ v: [{ wildcard: 'a.c' }] }, { v: 'abc' })).toBe(false);
    expect(matches({ v: [{ wildcard: 'a\\*b' }] }, { v: 'a*b' })).toBe(true);
    expect(matches({ v: [{ wildcard: 'a\\*b' }] }, { v: 'aXb' })).toBe(false);
    expect(matches({ v: [{ wildcard: 'a\\\\b' }] }, { v: 'a\\b' })).toBe(true);
    expect(matches({ count: [{ wildcard: '*' }] }, { count: 5 })).toBe(false);
    // EventBridge refuses these rules.
    expect(() => matches({ v: [{ wildcard: 'a**' }] }, { v: 'a' })).toThrow(/consecutive stars/);
    expect(() => matches({ v: [{ wildcard: 'a\\b' }] }, { v: 'a' })).toThrow(/escape/);
  });

  it('supports cidr for IPv4 and IPv6', () => {
    expect(matches({ detail: { ip: [{ cidr: '10.0.0.0/24' }] } }, event)).toBe(true);
    expect(matches({ detail: { ip: [{ cidr: '10.0.1.0/24' }] } }, event)).toBe(false);
    expect(matches({ v6: [{ cidr: '2001:db8::/32' }] }, { v6: '2001:db8::17' })).toBe(true);
    expect(matches({ v6: [{ cidr: '2001:db8::/32' }] }, { v6: '10.0.0.1' })).toBe(false);
  });

  it('compares cidr values as addresses, with the same rules as session matching', () => {
    // IPv4-mapped IPv6 is the IPv4 address, in the value and in the block; IPv6 in any written form.
    expect(matches({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '::ffff:10.0.0.17' })).toBe(true);
    expect(matches({ ip: [{ cidr: '::ffff:10.0.0.0/120' }] }, { ip: '10.0.0.17' })).toBe(true);
    expect(matches({ v6: [{ cidr: '2001:0DB8::/32' }] }, { v6: '2001:0db8:0000::0017' })).toBe(true);
    // A leading-zero octet is never read as octal (010 = 8) nor as decimal.
    expect(matches({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '010.000.000.017' })).toBe(false);
    expect(matches({ ip: [{ cidr: '8.0.0.0/24' }] }, { ip: '010.000.000.017' })).toBe(false);
    expect(matches({ ip: [{ cidr: '010.0.0.0/8' }] }, { ip: '10.0.0.17' })).toBe(false);
  });

  it('supports $or between alternatives', () => {
    const pattern = {
      source: ['aws.ec2'],
      $or: [{ detail: { state: ['stopped'] } }, { detail: { count: [{ numeric: ['>', 3] }] } }],
    };
    expect(matches(pattern, event)).toBe(true);
    expect(matches({ $or: [{ detail: { state: ['stopped'] } }, { detail: { count: [1] } }] }, event)).toBe(false);
  });

  it('descends into arrays of objects (as Security Hub sends findings)', () => {
    const findings = { detail: { findings: [{ Severity: { Label: 'LOW' } }, { Severity: { Label: 'HIGH' } }] } };
    expect(matches({ detail: { findings: { Severity: { Label: ['HIGH', 'CRITICAL'] } } } }, findings)).toBe(true);
    expect(matches({ detail: { findings: { Severity: { Label: ['CRITICAL'] } } } }, findings)).toBe(false);
  });

  it('matches an array of objects field by field across its elements, not element by element', () => {
    // EventBridge flattens the array: each field may be satisfied by a different element.
    const findings = {
      detail: {
        findings: [
          { Severity: { Label: 'CRITICAL' }, RecordState: 'ARCHIVED', Types: ['Software and Configuration Checks/x'] },
          { Severity: { Label: 'LOW' }, RecordState: 'ACTIVE', Types: ['TTPs/Discovery/y'] },
        ],
      },
    };
    const pattern = {
      detail: {
        findings: {
          Severity: { Label: ['CRITICAL'] },
          RecordState: ['ACTIVE'],
          Types: [{ prefix: 'TTPs/' }],
        },
      },
    };
    expect(matches(pattern, findings)).toBe(true);
    expect(matches({ detail: { findings: { RecordState: ['DELETED'] } } }, findings)).toBe(false);
    // exists looks at every element: one holding the field is enough.
    expect(matches({ detail: { findings: { Types: [{ exists: true }] } } }, findings)).toBe(true);
    expect(matches({ detail: { findings: { Note: [{ exists: false }] } } }, findings)).toBe(true);
  });

  it('matches an empty pattern to anything, and unknown operators to nothing', () => {
    expect(matches({}, event)).toBe(true);
    expect(matches({ detail: { state: [{ 'starts-with': 'run' }] } }, event)).toBe(false);
  });
});
