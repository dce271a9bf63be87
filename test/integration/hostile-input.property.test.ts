import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dropEvent, lambdaContext, listEvent } from '../../infra/local/lambda-events.js';
import type { LocalPam } from '../../infra/local/local-pam.js';
import { type SimulatedSession, seedSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { normaliseRemoteSession } from '../../lib/sessions/remote-session.js';
import { sessionMatches } from '../../lib/sessions/session-match.js';
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
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('active', 'user', 'device', 'origin_ip')), fc.string(), {
          maxKeys: 4,
        }),
        async (query) => {
          const answer = await list(listEvent(query), lambdaContext());
          expect([200, 400]).toContain(answer.statusCode);
          const body = JSON.parse(answer.body);
          if (answer.statusCode === 400)
            expect(body.error).toEqual({ code: 'invalid_request', message: expect.any(String) });
          else expect(body.count).toBe(body.sessions.length);
        },
      ),
      { numRuns: 150 },
    );
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

  it('direct invocations of anything: a result, or a typed error, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.anything(), fc.record({ session_id: fc.anything() }), fc.record({ session_id: fc.string() })),
        async (event) => {
          try {
            const result = await drop(event, lambdaContext());
            expect(result).toEqual(expect.objectContaining({ session_id: expect.any(String) }));
          } catch (error) {
            expect(TYPED_ERRORS.has((error as Error).name)).toBe(true);
          }
          onlyValidIdsReachedPam();
        },
      ),
      { numRuns: 200 },
    );
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
    await fc.assert(
      fc.asyncProperty(detailType, source, fc.oneof(fc.anything(), fc.object()), async (type, from, detail) => {
        const event = {
          version: '0',
          id: 'e',
          'detail-type': type,
          source: from,
          account: '1',
          time: '2026-11-23T10:00:00Z',
          region: 'us-east-1',
          resources: [],
          detail,
        };
        try {
          const report = await drop(event, lambdaContext());
          expect(Array.isArray(report.outcomes)).toBe(true);
        } catch (error) {
          expect((error as Error).name).toBe('ValidationError');
        }
        onlyValidIdsReachedPam();
      }),
      { numRuns: 200 },
    );
  });

  it('a match selects only active sessions that satisfy it, and an empty one selects nothing', async () => {
    process.env.DRY_RUN = 'true';
    const sessions = seedSessions().map((raw) => {
      const result = normaliseRemoteSession(raw);
      if (!result.ok) throw new Error(result.reason);
      return result.session;
    });
    const field = (values: string[]) =>
      fc.option(fc.oneof(fc.constantFrom(...values), fc.string({ maxLength: 5 })), { nil: undefined });
    const match = fc.record({
      user: field(['aoliveira', 'JSILVA', 'Admin']),
      origin_ip: field(['203.0.113.0/24', '172.16.20.125', '10.20.0.0/16', '::ffff:203.0.113.77']),
      device: field(['10.66.50.9', '10.66.33.15:3389']),
      protocol: field(['ssh', 'RDP']),
    });
    await fc.assert(
      fc.asyncProperty(match, async (criteria) => {
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
        try {
          const report = await drop(event, lambdaContext());
          for (const outcome of report.outcomes) {
            const session = sessions.find((candidate) => candidate.session_id === outcome.session_id);
            expect(session?.active).toBe(true);
            expect(session && sessionMatches(session, defined)).toBe(true);
          }
          const expected = sessions
            .filter((session) => session.active && sessionMatches(session, defined))
            .map((session) => session.session_id);
          expect(report.outcomes.map((outcome: { session_id: string }) => outcome.session_id).sort()).toEqual(
            expected.sort(),
          );
        } catch (error) {
          // Empty or invalid criteria are refused before anything is resolved.
          expect((error as Error).name).toBe('ValidationError');
        }
        expect(local.pam.requests.filter((request) => request.method === 'DELETE')).toHaveLength(0);
      }),
      { numRuns: 200 },
    );
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
