import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalPam, pamSecretString, startLocalPam } from '../../infra/local/local-pam.js';
import { type PamSimulator, startPamSimulator } from '../../infra/pam-simulator/server.js';
import { ValidationError } from '../../lib/core/errors.js';
import { createOAuth1Signer } from '../../lib/pam/oauth1.js';
import { PamApiError } from '../../lib/pam/pam-errors.js';
import { forgetCachedSecret } from '../../lib/pam/pam-secret.js';
import { LookupUnavailableError, lookupSession } from '../../lib/pam/session-lookup.js';
import { normaliseRemoteSession } from '../../lib/sessions/remote-session.js';

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
const pamEnvelope = (status: number, message: string, code: number) =>
  JSON.stringify({ response: { status, message, error: code !== 0, error_code: code, detail: '' } });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the lookup to fail');
}

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
    expect(await rejection(lookupSession(session_id))).toBeInstanceOf(ValidationError);
    expect(await rejection(lookupSession('12/../drop'))).toBeInstanceOf(ValidationError);
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
    const error = await rejection(lookupSession('3'));
    expect(error).toBeInstanceOf(LookupUnavailableError);
    expect(error).toMatchObject({ reason: 'id_refused', pamErrorCode: 1003 });
    expect(lookups(local.pam)).toHaveLength(1);
  });

  it("takes the gateway's 'no Route matched' from a PAM without the route as the route refused, asked once", async () => {
    process.env.PAM_SECRET_ID = 'no-route';
    const error = await rejection(lookupSession('3'));
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
    const error = await rejection(lookupSession('3'));
    expect(error).toBeInstanceOf(LookupUnavailableError);
    expect(error).toMatchObject({ reason: 'route_refused', status });
  });

  it('reports other failures as PAM failures, retrying what may pass', async () => {
    local.pam.injectFault('lookup', { kind: 'status', status: 503, body: '' });
    expect(await lookupSession('1')).toMatchObject({ id: '1' });
    expect(lookups(local.pam).map((request) => request.status)).toEqual([503, 200]);

    local.pam.injectFault('lookup', { kind: 'status', status: 500, body: pamEnvelope(500, 'Internal error', 1) });
    const error = await rejection(lookupSession('1'));
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
    const error = await rejection(lookupSession('3'));
    expect(error).toMatchObject({ kind: 'bad_response' });
    expect((error as Error).message).toMatch(message);
  });

  it("follows the secret's lookup_path", async () => {
    process.env.PAM_SECRET_ID = 'other-path';
    expect(await lookupSession('2')).toMatchObject({ id: '2', session_id: otherPath.sessions[1]?.session_id });
    expect(lookups(otherPath).map((request) => request.path)).toEqual(['/api/pam/session/remotesessions/2']);
  });
});
