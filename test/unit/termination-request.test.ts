import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/core/errors.js';
import { MAX_SESSION_IDS, parseTerminationDetail } from '../../lib/termination/termination-request.js';

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
    [{ match: { origin_ip: '203.0.113.0/33' }, reason: 'r' }, 'match.origin_ip must be an IP address or a CIDR block'],
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
