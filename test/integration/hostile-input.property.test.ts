import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dropEvent, lambdaContext, listEvent } from '../../infra/local/lambda-events.js';
import type { LocalPam } from '../../infra/local/local-pam.js';
import { type SimulatedSession, seedSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { type Handler, startLocalHandlers } from '../support/local-handlers.js';

let local: LocalPam;
let list: Handler;
let drop: Handler;
const VALID_ID = /^\/iso\/session\/drop\/[A-Za-z0-9_-]{1,128}$/;
const TYPED_ERRORS = new Set(['ValidationError', 'SessionNotFoundError', 'ProtectedSessionError']);

beforeAll(async () => {
  ({ local, list, drop } = await startLocalHandlers(
    {},
    { POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true', PROTECTED_USERS: 'break_glass' },
  ));
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  await local.s3.clear();
  local.pam.sessions.length = 0;
  local.pam.sessions.push(...seedSessions());
  local.pam.sessionsChanged();
  local.pam.requests.length = 0;
});

afterEach(() => {
  delete process.env.DRY_RUN;
});

/** Whatever happens, no request that reached the PAM Core named a session id that fails validation. */
function onlyValidIdsReachedPam() {
  for (const request of local.pam.requests.filter((candidate) => candidate.method === 'DELETE'))
    expect(request.path).toMatch(VALID_ID);
}

describe('arbitrary input never crashes a handler or reaches PAM unvalidated', () => {
  it('GET /sessions with any query string: 200 or a 400 with a message', async () => {
    // Mostly filters a caller would send (answered 200); sometimes anything.
    const valid = fc
      .record(
        {
          active: fc.constantFrom('true', 'false'),
          user: fc.constantFrom('aoliveira', 'JSILVA', 'nobody'),
          protocol: fc.constantFrom('ssh', 'rdp'),
          origin_ip: fc.constantFrom('10.20.0.0/16', '203.0.113.77'),
        },
        { requiredKeys: [] },
      )
      .map((query) => ({ query, valid: true }));
    const anything = fc
      .dictionary(fc.oneof(fc.string(), fc.constantFrom('active', 'user', 'device', 'origin_ip')), fc.string(), {
        maxKeys: 4,
      })
      .map((query) => ({ query, valid: false }));
    let listed = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: anything, weight: 1 }),
        async ({ query, valid }) => {
          runs += 1;
          const answer = await list(listEvent(query), lambdaContext());
          expect([200, 400]).toContain(answer.statusCode);
          const body = JSON.parse(answer.body);
          if (valid) expect(answer.statusCode).toBe(200);
          if (answer.statusCode === 400) {
            expect(body.error).toEqual({ code: 'invalid_request', message: expect.any(String) });
            return;
          }
          listed += 1;
          expect(body.count).toBe(body.sessions.length);
        },
      ),
      { numRuns: 150 },
    );
    expect(listed / runs).toBeGreaterThanOrEqual(0.5);
  });

  it('DELETE /sessions/{sessionId} with any id: never a 5xx, and only valid ids reach PAM', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('../x', 'a%2Fb', '', ' ', 'x'.repeat(200))),
        async (id) => {
          const answer = await drop(dropEvent(id), lambdaContext());
          expect([200, 400, 404, 409]).toContain(answer.statusCode);
          onlyValidIdsReachedPam();
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a direct invocation with more than a session_id is refused and sends nothing (dry_run was ignored, and the session cut)', async () => {
    const open = local.pam.sessions.find((session) => session.end === null && session.user !== 'break_glass');
    await expect(drop({ session_id: open?.session_id, dry_run: true }, lambdaContext())).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('(not dry_run)'),
    });
    expect(local.pam.requests).toEqual([]);
  });

  it('direct invocations of anything: a result, or a typed error, never a crash', async () => {
    process.env.DRY_RUN = 'true';
    let answered = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          // Mostly an open session's id, as an orchestrator sends it (PROTECTED_USERS spares break_glass's).
          {
            arbitrary: fc.constantFrom(...seedSessions().filter((s) => s.end === null && s.user !== 'break_glass')),
            weight: 3,
          },
          {
            arbitrary: fc.oneof(
              fc.anything(),
              fc.record({ session_id: fc.anything() }),
              fc.record({ session_id: fc.string() }),
            ),
            weight: 1,
          },
        ),
        async (event) => {
          runs += 1;
          const open = local.pam.sessions.find(
            (s) => s.end === null && s.session_id === (event as { session_id?: unknown } | null)?.session_id,
          );
          if (open) {
            const result = await drop({ session_id: open.session_id }, lambdaContext());
            expect(result).toMatchObject({ session_id: open.session_id, status: 'would_terminate' });
            answered += 1;
          } else {
            try {
              const result = await drop(event, lambdaContext());
              expect(result).toEqual(expect.objectContaining({ session_id: expect.any(String) }));
            } catch (error) {
              expect(TYPED_ERRORS.has((error as Error).name)).toBe(true);
            }
          }
          onlyValidIdsReachedPam();
        },
      ),
      { numRuns: 200 },
    );
    expect(answered / runs).toBeGreaterThanOrEqual(0.5);
  });

  it('EventBridge events with any detail: a report, or a ValidationError', async () => {
    process.env.DRY_RUN = 'true';
    const detailType = fc.constantFrom(
      'PAM Session Termination Requested',
      'GuardDuty Finding',
      'Security Hub Findings - Imported',
      'Security Hub Findings - Custom Action',
      'Other',
    );
    const source = fc.constantFrom('aws.guardduty', 'aws.securityhub', 'splunk.es');
    const anyEvent = fc
      .tuple(detailType, source, fc.oneof(fc.anything(), fc.object()))
      .map(([type, from, detail]) => ({ type, from, detail, valid: false }));
    // Mostly a SIEM's request naming open sessions by id, as the fixture's SIEM sends it.
    const openIds = seedSessions()
      .filter((session) => session.end === null)
      .map((session) => session.session_id);
    const siemRequest = fc.subarray(openIds, { minLength: 1, maxLength: 3 }).map((ids) => ({
      type: 'PAM Session Termination Requested',
      from: 'splunk.es',
      detail: { session_ids: ids, reason: 'property', requested_by: 'soar' },
      valid: true,
    }));
    let reported = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ arbitrary: siemRequest, weight: 3 }, { arbitrary: anyEvent, weight: 1 }),
        async ({ type, from, detail, valid }) => {
          runs += 1;
          const event = {
            version: '0',
            id: randomUUID(),
            'detail-type': type,
            source: from,
            account: '1',
            // Now: drop does not act on events older than MAX_EVENT_AGE_MINUTES.
            time: new Date().toISOString(),
            region: 'us-east-1',
            resources: [],
            detail,
          };
          try {
            const report = await drop(event, lambdaContext());
            expect(Array.isArray(report.outcomes)).toBe(true);
            if (valid) {
              const asked = (detail as { session_ids: string[] }).session_ids;
              expect(report.outcomes.map((o: { session_id: string }) => o.session_id).sort()).toEqual(
                [...asked].sort(),
              );
              reported += 1;
            }
          } catch (error) {
            expect(valid).toBe(false);
            expect((error as Error).name).toBe('ValidationError');
          }
          onlyValidIdsReachedPam();
        },
      ),
      { numRuns: 200 },
    );
    expect(reported / runs).toBeGreaterThanOrEqual(0.5);
  });

  it('a match selects exactly the active sessions that satisfy it, and an empty one selects nothing', async () => {
    process.env.DRY_RUN = 'true';
    const seed = seedSessions();
    // Which of the 12 seeded sessions (by position, 1-based) each criterion matches, worked out by hand
    // from infra/pam-simulator/seed-sessions.ts, not by the product's matcher.
    const OPTIONS: Record<'user' | 'origin_ip' | 'device' | 'protocol', Array<[value: string, matches: number[]]>> = {
      user: [
        ['aoliveira', [7, 8]],
        ['JSILVA', [3, 4]],
        ['Admin', [1, 2]],
        ['PGarcia', [11, 12]],
        ['mchen', [5, 6]],
        ['break_glass', [10]],
      ],
      origin_ip: [
        ['203.0.113.0/24', [7, 8]],
        ['172.16.20.125', [1, 2]],
        ['172.16.0.0/16', [1, 2, 3, 4, 10]],
        ['::ffff:203.0.113.77', [7, 8]],
        ['10.20.0.0/16', [5, 6, 9, 11, 12]],
        ['10.20.4.18', [5, 6]],
      ],
      device: [
        ['10.66.50.9', [7, 12]],
        ['10.66.33.15:3389', [1, 9]],
        ['10.66.33.17', [2, 3]],
        ['10.66.40.21', [5]],
        ['10.66.50.10:22', [8]],
        ['10.66.40.1', [10]],
        ['vcenter.corp.example', [11]],
      ],
      protocol: [
        ['ssh', [2, 3, 4, 7, 8, 12]],
        ['RDP', [1, 5, 9, 10]],
        ['https', [6, 11]],
      ],
    };
    const ACTIVE = [1, 3, 5, 7, 8, 10, 11];
    expect(seed.flatMap((session, index) => (session.end === null ? [index + 1] : []))).toEqual(ACTIVE);
    const fields = Object.keys(OPTIONS) as Array<keyof typeof OPTIONS>;
    // Mostly criteria built around one open session, so that most runs select something; sometimes any criteria.
    const aroundOneSession = fc.constantFrom(...ACTIVE).chain((target) =>
      fc
        .record(
          Object.fromEntries(
            fields.map((field) => {
              const fitting = OPTIONS[field].filter(([, matches]) => matches.includes(target));
              return [field, fc.option(fc.constantFrom(...fitting.map(([value]) => value)), { nil: undefined })];
            }),
          ) as Record<keyof typeof OPTIONS, fc.Arbitrary<string | undefined>>,
        )
        .map((criteria) =>
          Object.values(criteria).some((value) => value !== undefined)
            ? criteria
            : { ...criteria, protocol: OPTIONS.protocol.find(([, m]) => m.includes(target))?.[0] },
        ),
    );
    const anyKnown = fc.record(
      Object.fromEntries(
        fields.map((field) => [
          field,
          fc.option(fc.constantFrom(...OPTIONS[field].map(([value]) => value)), { nil: undefined }),
        ]),
      ) as Record<keyof typeof OPTIONS, fc.Arbitrary<string | undefined>>,
    );
    const expectedIds = (criteria: Partial<Record<keyof typeof OPTIONS, string>>) => {
      let positions = ACTIVE;
      for (const field of fields) {
        const value = criteria[field];
        if (value === undefined) continue;
        const matches = OPTIONS[field].find(([known]) => known === value)?.[1] ?? [];
        positions = positions.filter((position) => matches.includes(position));
      }
      return positions.map((position) => seed[position - 1]?.session_id).sort();
    };
    let selected = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ arbitrary: aroundOneSession, weight: 4 }, { arbitrary: anyKnown, weight: 1 }),
        async (criteria) => {
          runs += 1;
          const defined = Object.fromEntries(Object.entries(criteria).filter(([, value]) => value !== undefined));
          const event = {
            version: '0',
            id: randomUUID(),
            'detail-type': 'PAM Session Termination Requested',
            source: 'splunk.es',
            account: '1',
            time: 't',
            region: 'r',
            resources: [],
            detail: { match: defined, reason: 'property' },
          };
          if (Object.keys(defined).length === 0) {
            await expect(drop(event, lambdaContext())).rejects.toMatchObject({ name: 'ValidationError' });
          } else {
            const report = await drop(event, lambdaContext());
            const expected = expectedIds(defined);
            expect(report.outcomes.map((outcome: { session_id: string }) => outcome.session_id).sort()).toEqual(
              expected,
            );
            if (expected.length > 0) selected += 1;
          }
          expect(local.pam.requests.filter((request) => request.method === 'DELETE')).toHaveLength(0);
        },
      ),
      { numRuns: 200 },
    );
    // The branch that checks a selection ran in most runs, not in a handful.
    expect(selected / runs).toBeGreaterThanOrEqual(0.5);
  });

  it('any session list from PAM: every record is either listed or counted as malformed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(fc.jsonValue(), fc.record({ session_id: fc.string(), user: fc.jsonValue(), end: fc.jsonValue() })),
          { maxLength: 12 },
        ),
        async (records) => {
          local.pam.sessions.length = 0;
          local.pam.sessions.push(...(records as unknown as SimulatedSession[]));
          local.pam.sessionsChanged();
          const answer = await list(listEvent(), lambdaContext());
          expect(answer.statusCode).toBe(200);
          const body = JSON.parse(answer.body);
          expect(body.count + body.malformed).toBe(records.length);
        },
      ),
      { numRuns: 150 },
    );
  });
});
