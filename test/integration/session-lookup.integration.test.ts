import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalPam, pamSecretString, startLocalPam } from '../../infra/local/local-pam.js';
import { type PamSimulator, startPamSimulator } from '../../infra/pam-simulator/server.js';
import { ValidationError } from '../../lib/core/errors.js';
import { createOAuth1Signer } from '../../lib/pam/oauth1.js';
import { PamApiError } from '../../lib/pam/pam-errors.js';
import { forgetCachedSecret } from '../../lib/pam/pam-secret.js';
import { LookupUnavailableError, lookupSession, lookupSessions } from '../../lib/pam/session-lookup.js';
import { sessionsOpenedSince } from '../../lib/pam/session-tail.js';
import { normaliseRemoteSession } from '../../lib/sessions/remote-session.js';
import { pamEnvelope, rejectionOf } from '../support/pam-answers.js';

let local: LocalPam;
/** A PAM Core whose gateway has no lookup route. */
let withoutRoute: PamSimulator;
/** A PAM Core serving the lookup on another version's path. */
let otherPath: PamSimulator;
const ENV = { PAM_MAX_ATTEMPTS: '3', PAM_RETRY_BASE_DELAY_MS: '5', POWERTOOLS_METRICS_DISABLED: 'true' };

beforeAll(async () => {
  local = await startLocalPam();
  Object.assign(process.env, local.env, ENV);
  withoutRoute = await startPamSimulator({ credentials: local.credentials, lookupRoute: false });
  otherPath = await startPamSimulator({
    credentials: local.credentials,
    lookupPath: '/api/pam/session/remotesessions/{id}',
  });
  local.secrets.putSecret('no-route', pamSecretString(withoutRoute.url, local.credentials));
  local.secrets.putSecret(
    'other-path',
    pamSecretString(otherPath.url, local.credentials, { lookup_path: '/api/pam/session/remotesessions/{id}' }),
  );
});

afterAll(async () => {
  for (const name of Object.keys(ENV)) delete process.env[name];
  await Promise.all([local.close(), withoutRoute.close(), otherPath.close()]);
});

beforeEach(() => {
  process.env.PAM_SECRET_ID = local.secretId;
  forgetCachedSecret();
  local.pam.clearFaults();
  local.pam.requests.length = 0;
});

const lookups = (pam: PamSimulator) => pam.requests.filter((request) => request.method === 'GET');

describe('lookupSession', () => {
  it('answers one session by numeric id, normalised as the list shows it', async () => {
    const open = local.pam.sessions.find((session) => session.end === null && session.user === 'mchen');
    const ended = local.pam.sessions.find((session) => session.end !== null);
    const expected = normaliseRemoteSession(open);
    expect(expected.ok).toBe(true);
    expect(await lookupSession(open?.id ?? '')).toEqual(expected.ok && { ...expected.session, active: true });
    const endedSession = await lookupSession(ended?.id ?? '');
    expect(endedSession).toMatchObject({ session_id: ended?.session_id, active: false, end: ended?.end });
    expect(lookups(local.pam).map((request) => [request.endpoint, request.path, request.status])).toEqual([
      ['lookup', `/api/session/remotesessions/${open?.id}`, 200],
      ['lookup', `/api/session/remotesessions/${ended?.id}`, 200],
    ]);
  });

  it('takes 1002 Session not found as no such session, asked once', async () => {
    expect(await lookupSession('987654')).toBeUndefined();
    expect(lookups(local.pam).map((request) => request.status)).toEqual([400]);
  });

  it('refuses an id that is not numeric before anything is sent', async () => {
    const session_id = local.pam.sessions[0]?.session_id ?? '';
    expect(await rejectionOf(lookupSession(session_id))).toBeInstanceOf(ValidationError);
    expect(await rejectionOf(lookupSession('12/../drop'))).toBeInstanceOf(ValidationError);
    expect(local.pam.requests).toEqual([]);
  });

  it('serves 1003 Unexpected identifier type for a session_id hash, as PAM does', async () => {
    const url = `${local.pam.url}/api/session/remotesessions/${local.pam.sessions[0]?.session_id}`;
    const response = await fetch(url, {
      headers: { authorization: createOAuth1Signer(local.credentials)({ method: 'GET', url }) },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ response: { error: true, error_code: 1003 } });
  });

  it('takes 1003 from PAM as "lookup unavailable for this id", not as not found', async () => {
    local.pam.injectFault('lookup', {
      kind: 'status',
      status: 400,
      body: pamEnvelope(400, '1003: Unexpected identifier type', 1003),
    });
    const error = await rejectionOf(lookupSession('3'));
    expect(error).toBeInstanceOf(LookupUnavailableError);
    expect(error).toMatchObject({ reason: 'id_refused', pamErrorCode: 1003 });
    expect(lookups(local.pam)).toHaveLength(1);
  });

  it("takes the gateway's 'no Route matched' from a PAM without the route as the route refused, asked once", async () => {
    process.env.PAM_SECRET_ID = 'no-route';
    const error = await rejectionOf(lookupSession('3'));
    expect(error).toBeInstanceOf(LookupUnavailableError);
    expect(error).toMatchObject({ reason: 'route_refused', status: 404 });
    expect((error as Error).message).toMatch(/lookup_path/);
    expect(lookups(withoutRoute).map((request) => [request.endpoint, request.status])).toEqual([['other', 404]]);
  });

  it.each([
    [405, '', 'text/plain'],
    [404, '<html><body>Not Found</body></html>', 'text/html'],
    [501, JSON.stringify({ message: 'Not Implemented' }), 'application/json'],
  ])('takes HTTP %i for the route as the route refused', async (status, body, contentType) => {
    local.pam.injectFault('lookup', { kind: 'status', status, body, contentType });
    const error = await rejectionOf(lookupSession('3'));
    expect(error).toBeInstanceOf(LookupUnavailableError);
    expect(error).toMatchObject({ reason: 'route_refused', status });
  });

  it('reports other failures as PAM failures, retrying what may pass', async () => {
    local.pam.injectFault('lookup', { kind: 'status', status: 503, body: '' });
    expect(await lookupSession('1')).toMatchObject({ id: '1' });
    expect(lookups(local.pam).map((request) => request.status)).toEqual([503, 200]);

    local.pam.injectFault('lookup', { kind: 'status', status: 500, body: pamEnvelope(500, 'Internal error', 1) });
    const error = await rejectionOf(lookupSession('1'));
    expect(error).toBeInstanceOf(PamApiError);
    expect(error).not.toBeInstanceOf(LookupUnavailableError);
    expect(error).toMatchObject({ kind: 'rejected', status: 500 });
  });

  it.each([
    ['without remote_session', { code: 200, response: { status: 200, error: false } }, /has no remote_session/],
    [
      'with another session than the one asked for',
      { response: { status: 200, error: false }, remote_session: { id: '4', session_id: 'abc' } },
      /is the session with id 4/,
    ],
    [
      'with a record that is not a session',
      { response: { status: 200, error: false }, remote_session: { id: '3' } },
      /session_id: must not be empty/,
    ],
  ])('refuses a 200 %s', async (_, body, message) => {
    local.pam.injectFault('lookup', { kind: 'status', status: 200, body: JSON.stringify(body) });
    const error = await rejectionOf(lookupSession('3'));
    expect(error).toMatchObject({ kind: 'bad_response' });
    expect((error as Error).message).toMatch(message);
  });

  it("follows the secret's lookup_path", async () => {
    process.env.PAM_SECRET_ID = 'other-path';
    expect(await lookupSession('2')).toMatchObject({ id: '2', session_id: otherPath.sessions[1]?.session_id });
    expect(lookups(otherPath).map((request) => request.path)).toEqual(['/api/pam/session/remotesessions/2']);
  });
});

describe('what the operator reads of a lookup, and where PAM cannot answer one (mutation survivors, issue 24)', () => {
  const KONG = JSON.stringify({ message: 'no Route matched with those values' });

  it('says which id PAM refused, keeping its answer as the cause', async () => {
    local.pam.injectFault('lookup', {
      kind: 'status',
      status: 400,
      body: pamEnvelope(400, '1003: Unexpected identifier type', 1003),
    });
    const error = (await rejectionOf(lookupSession('3'))) as LookupUnavailableError;
    expect(error.message).toBe(
      'PAM Core refused to look up session id 3 (1003: Unexpected identifier type): PAM Core answered HTTP 400 (error_code 1003): 1003: Unexpected identifier type',
    );
    expect(error.cause).toBeInstanceOf(PamApiError);
    expect(error.cause).toMatchObject({ status: 400, pamErrorCode: 1003 });
  });

  it("takes Kong's 'no Route matched' as the route refused whatever its status, never to be retried, its answer the cause", async () => {
    local.pam.injectFault('lookup', { kind: 'status', status: 400, body: KONG });
    const refused = (await rejectionOf(lookupSession('3'))) as LookupUnavailableError;
    expect(refused).toMatchObject({ reason: 'route_refused', status: 400, retryable: false });
    expect(refused.cause).toMatchObject({ kind: 'bad_response', status: 400 });
    // 503 may be retried by itself; once the attempts are spent, a missing route is not worth another.
    local.pam.injectFault('lookup', { kind: 'status', status: 503, body: KONG }, 3);
    expect(await rejectionOf(lookupSession('3'))).toMatchObject({ reason: 'route_refused', retryable: false });
    expect(lookups(local.pam).map((request) => request.status)).toEqual([400, 503, 503, 503]);
  });

  it("takes a 404 in PAM's own envelope as the route refused, but not PAM's words alone nor any page PAM breaks on", async () => {
    local.pam.injectFault('lookup', { kind: 'status', status: 404, body: pamEnvelope(404, 'Not found', 1) });
    expect(await rejectionOf(lookupSession('3'))).toMatchObject({ reason: 'route_refused', status: 404 });
    local.pam.injectFault('lookup', {
      kind: 'status',
      status: 400,
      body: pamEnvelope(400, 'No route matched for this session', 1),
    });
    const rejected = await rejectionOf(lookupSession('3'));
    expect(rejected).not.toBeInstanceOf(LookupUnavailableError);
    expect(rejected).toMatchObject({ kind: 'rejected', status: 400 });
    local.pam.injectFault('lookup', { kind: 'status', status: 500, body: '<html>Internal Server Error</html>' });
    const broken = await rejectionOf(lookupSession('3'));
    expect(broken).not.toBeInstanceOf(LookupUnavailableError);
    expect(broken).toMatchObject({ kind: 'bad_response', status: 500 });
  });

  it('never retries an answer that is not the session asked for, and names an id it refuses', async () => {
    local.pam.injectFault('lookup', {
      kind: 'status',
      status: 200,
      body: JSON.stringify({ response: { status: 200 } }),
    });
    expect(await rejectionOf(lookupSession('3'))).toMatchObject({ kind: 'bad_response', retryable: false });
    expect(((await rejectionOf(lookupSession('3a'))) as Error).message).toBe('session id "3a" is not a numeric id');
  });

  it('looks up several ids no more than LOOKUP_CONCURRENCY at a time', async () => {
    process.env.LOOKUP_CONCURRENCY = '2';
    try {
      local.pam.injectFault('lookup', { kind: 'delay', ms: 300 }, 6);
      const found = await lookupSessions(['1', '2', '3', '4', '5', '6']);
      expect([...found.keys()].sort()).toEqual(['1', '2', '3', '4', '5', '6']);
      // No answer comes before 300 ms: only the first two can have been asked by then.
      const [first] = lookups(local.pam).map((request) => request.receivedAt);
      const early = lookups(local.pam).filter((request) => request.receivedAt < (first ?? 0) + 300);
      expect(early).toHaveLength(2);
    } finally {
      delete process.env.LOOKUP_CONCURRENCY;
    }
  });

  it('stops the walk above an id at its budget of lookups, saying it is incomplete', async () => {
    const ids = local.pam.sessions.map((session) => Number(session.id));
    const highest = Math.max(...ids);
    const budgeted = await sessionsOpenedSince(highest - 4, { maxLookups: 2 });
    expect(budgeted).toMatchObject({ lookups: 2, complete: false, highestId: highest - 2 });
    const whole = await sessionsOpenedSince(highest - 4);
    expect(whole).toMatchObject({ lookups: 4 + 5, complete: true, highestId: highest });
  });
});
