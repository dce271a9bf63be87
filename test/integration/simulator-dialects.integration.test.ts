import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext, listEvent } from '../../infra/local/lambda-events.js';
import { seedSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { forgetCachedIndex } from '../../lib/inventory/active-index.js';
import { eventFixture } from '../support/fixtures.js';
import { asJson } from '../support/json-result.js';
import { type LocalHandlers, startLocalHandlers } from '../support/local-handlers.js';

// Older PAM Cores name two fields `credencial` and `dispositivo` (shared/notes/pam-core-api.md); the
// simulator writes open sessions' `end` as null, missing, "" and "0000-00-00 00:00:00" in turn.
let stack: LocalHandlers;

beforeAll(async () => {
  stack = await startLocalHandlers({ legacyFieldNames: true }, { PAM_RETRY_BASE_DELAY_MS: '5' });
});

afterAll(async () => {
  await stack.local.close();
});

beforeEach(async () => {
  await stack.local.s3.clear();
  forgetCachedIndex();
  stack.local.pam.sessions.splice(0, stack.local.pam.sessions.length, ...seedSessions());
  stack.local.pam.sessionsChanged();
  stack.local.pam.requests.length = 0;
});

/** The seed's open sessions, as credential@device: what the docs say the list means, not what the product computes. */
const openInSeed = () =>
  seedSessions()
    .filter((session) => session.time === null)
    .map((session) => `${session.credential}@${session.device}`)
    .sort();

const asPairs = (sessions: Array<{ credential: string; device: string }>) =>
  sessions.map((session) => `${session.credential}@${session.device}`).sort();

describe('the older field dialect, with every form of an open session', () => {
  it('lists live every open session under the current field names', async () => {
    const { statusCode, body } = asJson(await stack.list(listEvent({ active: 'true' }), lambdaContext()));
    expect(statusCode).toBe(200);
    expect(asPairs(body.sessions)).toEqual(openInSeed());
  });

  it('indexes every open session, and answers active=true from the index alike', async () => {
    await stack.indexSessions({}, lambdaContext({ remainingMs: 60_000 }));
    stack.local.pam.requests.length = 0;
    const { body } = asJson(await stack.list(listEvent({ active: 'true' }), lambdaContext()));
    expect(stack.local.pam.requests).toEqual([]);
    expect(asPairs(body.sessions)).toEqual(openInSeed());
  });

  it('terminates by a match on credential and device, whichever form its end took', async () => {
    const request = eventFixture('termination-request-by-match');
    request.detail.match = { credential: 'root' };
    const report = await stack.drop(request, lambdaContext());
    const rootOpen = seedSessions().filter((session) => session.credential === 'root' && session.time === null);
    expect(rootOpen.length).toBeGreaterThanOrEqual(2);
    expect(
      report.outcomes
        .map((outcome: { session_id: string; outcome: string }) => [outcome.session_id, outcome.outcome])
        .sort(),
    ).toEqual(rootOpen.map((session) => [session.session_id, 'terminated']).sort());
    expect(
      report.outcomes.every((outcome: { session: { device: string } }) => outcome.session.device !== undefined),
    ).toBe(true);
  });
});
