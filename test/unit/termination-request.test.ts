import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError, ValidationError } from '../../lib/core/errors.js';
import { terminationSettings } from '../../lib/core/settings.js';
import { MAX_SESSION_IDS, parseTerminationDetail, triggerKind } from '../../lib/termination/termination-request.js';

const trigger = { event_id: 'e1', source: 'splunk.es', detail_type: 'PAM Session Termination Requested' };
const id = 'e5618522d5737fac6d001bc864892095f066abb5';

describe('parseTerminationDetail', () => {
  it('reads a request by ids, de-duplicated', () => {
    const request = parseTerminationDetail(
      { session_id: id, session_ids: [id, 'abc'], reason: ' incident 42 ', requested_by: 'soar' },
      trigger,
    );
    expect(request).toEqual({
      sessionIds: [id, 'abc'],
      criteria: [],
      reason: 'incident 42',
      requestedBy: 'soar',
      dryRun: false,
      trigger,
    });
  });

  it('reads a request by match, with a dry run', () => {
    const request = parseTerminationDetail(
      { match: { user: 'aoliveira', origin_ip: '203.0.113.0/24' }, reason: 'r', dry_run: true },
      trigger,
    );
    expect(request.criteria).toEqual([{ user: 'aoliveira', origin_ip: '203.0.113.0/24' }]);
    expect(request.dryRun).toBe(true);
  });

  it('ignores fields it does not know at the top level (SIEMs add their own)', () => {
    expect(parseTerminationDetail({ session_id: id, reason: 'r', notable_id: 'x' }, trigger).sessionIds).toEqual([id]);
  });

  it.each([
    [{ reason: 'r' }, 'give at least one of session_id, session_ids or match'],
    [{ session_id: id }, 'reason must be a string'],
    [{ session_id: id, reason: '  ' }, 'reason must not be empty'],
    [{ match: {}, reason: 'r' }, 'match needs at least one of user, origin_ip, device, credential, protocol'],
    [
      { match: { usr: 'x' }, reason: 'r' },
      'match accepts only user, origin_ip, device, credential and protocol (not usr); match needs at least one of user, origin_ip, device, credential, protocol',
    ],
    [{ match: { origin_ip: '203.0.113.0/33' }, reason: 'r' }, 'match.origin_ip has a prefix that is not /0 to /32'],
    [{ match: { origin_ip: 'host' }, reason: 'r' }, 'match.origin_ip must be an IP address or a CIDR block'],
    [{ match: { origin_ip: '203.0.113.77:22' }, reason: 'r' }, 'match.origin_ip must be an IP address or a CIDR block'],
    [{ match: { user: '' }, reason: 'r' }, 'match.user must not be empty'],
    [{ session_id: '../x', reason: 'r' }, 'session_id may contain only letters, digits, "_" and "-"'],
    [{ session_ids: [], reason: 'r' }, 'session_ids must not be empty'],
    [{ session_ids: id, reason: 'r' }, 'session_ids must be an array of session ids'],
    [
      { session_ids: Array.from({ length: MAX_SESSION_IDS + 1 }, (_, i) => `s${i}`), reason: 'r' },
      `session_ids may hold at most ${MAX_SESSION_IDS} ids`,
    ],
    [{ session_id: id, reason: 'r', dry_run: 'yes' }, 'dry_run must be true or false'],
    [null, 'the request must be a JSON object'],
    [[id], 'the request must be a JSON object'],
  ])('refuses %j', (detail, message) => {
    expect(() => parseTerminationDetail(detail, trigger)).toThrow(new ValidationError(message));
  });
});

describe('match addresses and devices', () => {
  const parse = (match: Record<string, unknown>) => parseTerminationDetail({ match, reason: 'r' }, trigger).criteria;
  const refused = (match: Record<string, unknown>) => () => parse(match);
  const AMBIGUOUS =
    'is not written in the standard form: leading zeros (010 may mean 8 or 10), hexadecimal or shortened IPv4 are ambiguous; write four decimal numbers such as 203.0.113.77';

  afterEach(() => {
    delete process.env.MIN_PREFIX_LENGTH_IPV4;
    delete process.env.MIN_PREFIX_LENGTH_IPV6;
  });

  it('accepts addresses in any standard form, IPv4-mapped IPv6 and bracketed IPv6 devices with a port', () => {
    const match = {
      origin_ip: '::ffff:203.0.113.0/120',
      device: '[2001:0db8::10]:22',
    };
    expect(parse(match)).toEqual([match]);
    expect(parse({ origin_ip: '2001:db8::1' })).toEqual([{ origin_ip: '2001:db8::1' }]);
    expect(parse({ device: 'DB-PROD-01.corp.example:1521' })).toEqual([{ device: 'DB-PROD-01.corp.example:1521' }]);
  });

  it.each([
    [{ origin_ip: '203.000.113.077' }, `match.origin_ip ${AMBIGUOUS}`],
    [{ origin_ip: '::ffff:203.000.113.077' }, `match.origin_ip ${AMBIGUOUS}`],
    [{ origin_ip: '010.0.0.0/24' }, `match.origin_ip ${AMBIGUOUS}`],
    [{ origin_ip: '10.1' }, `match.origin_ip ${AMBIGUOUS}`],
    [{ device: '203.000.113.077' }, `match.device ${AMBIGUOUS}`],
    [{ device: '010.066.033.017:22' }, `match.device ${AMBIGUOUS}`],
    [{ device: '0x0a.0.0.1' }, `match.device ${AMBIGUOUS}`],
    [{ device: '[2001:db8::10' }, 'match.device is not a host, host:port, or [IPv6 address]:port'],
    [{ device: 'a:b:c' }, 'match.device is not a host, host:port, or [IPv6 address]:port'],
    [{ device: '10.0.0.0/24' }, 'match.device is a host, not a CIDR block'],
    [{ origin_ip: 'fe80::1%eth0' }, 'match.origin_ip has a zone (%…), which names a link of one host, not an address'],
  ])('refuses the ambiguous or unreadable %j, never guessing', (match, message) => {
    expect(refused(match)).toThrow(new ValidationError(message));
  });

  it.each([
    ['db01:0', '"0"'],
    ['db01:65536', '"65536"'],
    ['db01:123456', '"123456"'],
    ['10.0.0.5:-1', '"-1"'],
    ['[2001:db8::10]:0', '"0"'],
    ['db01:', '""'],
    ['db01:ssh', '"ssh"'],
  ])('refuses the device %s: a port out of range is a mistake, not "any port"', (device, port) => {
    expect(refused({ device })).toThrow(
      new ValidationError(`match.device has a port that is not 1 to 65535 (${port})`),
    );
  });

  it('refuses a block wider than MIN_PREFIX_LENGTH_IPV4 (16) or MIN_PREFIX_LENGTH_IPV6 (48), saying how to change it', () => {
    expect(refused({ origin_ip: '10.0.0.0/8' })).toThrow(
      new ValidationError(
        'match.origin_ip 10.0.0.0/8 is wider than /16, the widest IPv4 block a request may name: name a narrower block, or lower MIN_PREFIX_LENGTH_IPV4 (16) for the deployment',
      ),
    );
    expect(refused({ origin_ip: '::ffff:10.0.0.0/104' })).toThrow(/10\.0\.0\.0\/8 is wider than \/16/);
    expect(refused({ origin_ip: '2001:db8::/32' })).toThrow(
      new ValidationError(
        'match.origin_ip 2001:db8::/32 is wider than /48, the widest IPv6 block a request may name: name a narrower block, or lower MIN_PREFIX_LENGTH_IPV6 (48) for the deployment',
      ),
    );
    expect(refused({ origin_ip: '0.0.0.0/0' })).toThrow(ValidationError);
    expect(parse({ origin_ip: '10.66.0.0/16' })).toEqual([{ origin_ip: '10.66.0.0/16' }]);
    expect(parse({ origin_ip: '2001:db8:1::/48' })).toEqual([{ origin_ip: '2001:db8:1::/48' }]);
  });

  it('reads the limits from the settings, strictly', () => {
    process.env.MIN_PREFIX_LENGTH_IPV4 = '8';
    process.env.MIN_PREFIX_LENGTH_IPV6 = '64';
    expect(parse({ origin_ip: '10.0.0.0/8' })).toEqual([{ origin_ip: '10.0.0.0/8' }]);
    expect(refused({ origin_ip: '2001:db8:1::/48' })).toThrow(/lower MIN_PREFIX_LENGTH_IPV6 \(64\)/);
    process.env.MIN_PREFIX_LENGTH_IPV4 = '33';
    expect(() => terminationSettings()).toThrow(
      new ConfigurationError('MIN_PREFIX_LENGTH_IPV4 must be a whole number from 0 to 32 (it is "33")'),
    );
  });
});

describe('contain', () => {
  const contain = (value: unknown) => parseTerminationDetail({ session_id: id, reason: 'r', contain: value }, trigger);

  it('reads one action or both, rotation always first, each once', () => {
    expect(contain('rotate').contain).toEqual(['rotate']);
    expect(contain('deactivate').contain).toEqual(['deactivate']);
    expect(contain(['deactivate', 'rotate']).contain).toEqual(['rotate', 'deactivate']);
    expect(contain(['deactivate', 'deactivate']).contain).toEqual(['deactivate']);
  });

  it('asks for nothing when absent', () => {
    expect(parseTerminationDetail({ session_id: id, reason: 'r' }, trigger)).not.toHaveProperty('contain');
  });

  it.each([['delete'], [[]], [['rotate', 'suspend']], [true], [['rotate', 'rotate', 'deactivate']]])(
    'refuses %j, and nothing is resolved for it',
    (value) => {
      expect(() => contain(value)).toThrow(ValidationError);
    },
  );
});

describe('CONTAIN_ON_FINDINGS', () => {
  afterEach(() => {
    delete process.env.CONTAIN_ON_FINDINGS;
  });

  it('is none by default and reads rotate, deactivate or both, strictly', () => {
    expect(terminationSettings().containOnFindings).toEqual([]);
    process.env.CONTAIN_ON_FINDINGS = 'Rotate, deactivate';
    expect(terminationSettings().containOnFindings).toEqual(['rotate', 'deactivate']);
    process.env.CONTAIN_ON_FINDINGS = 'deactivate,rotate';
    expect(terminationSettings().containOnFindings).toEqual(['rotate', 'deactivate']);
    process.env.CONTAIN_ON_FINDINGS = 'none';
    expect(terminationSettings().containOnFindings).toEqual([]);
    process.env.CONTAIN_ON_FINDINGS = 'suspend';
    expect(() => terminationSettings()).toThrow(ConfigurationError);
  });
});

describe('what the operator reads of a request (mutation survivors, issue 24)', () => {
  const trigger = { event_id: 'e1', source: 'siem.splunk', detail_type: 'PAM Session Termination Request' };
  const refusal = (detail: unknown) => {
    try {
      parseTerminationDetail(detail, trigger);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected a refusal');
  };

  it('names the kind of trigger TimeToCut is counted by, from its source', () => {
    const kind = (source: string) => triggerKind({ ...trigger, source });
    expect(['aws.guardduty', 'aws.securityhub', 'api', 'lambda.invoke', 'siem.splunk', ''].map(kind)).toEqual([
      'guardduty',
      'securityhub',
      'http',
      'invoke',
      'request',
      'request',
    ]);
  });

  it('lists every key match does not take, and says when match is not an object or says nothing', () => {
    expect(refusal({ reason: 'r', match: { user: 'a', host: 'b', ip: 'c' } })).toMatch(
      /match accepts only user, origin_ip, device, credential and protocol \(not host, ip\)/,
    );
    expect(refusal({ reason: 'r', match: 'mchen' })).toMatch(/match must be an object/);
    expect(refusal({ reason: 'r', match: { user: undefined } })).toMatch(
      /match needs at least one of user, origin_ip, device, credential, protocol/,
    );
  });
});
