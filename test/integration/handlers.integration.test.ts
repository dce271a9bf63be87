import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dropEvent, lambdaContext, listEvent } from '../../infra/local/lambda-events.js';
import { type LocalPam, pamSecretString, randomCredentials } from '../../infra/local/local-pam.js';
import { forgetCachedSecret } from '../../lib/pam/pam-secret.js';
import { emfRecords } from '../support/emf.js';
import { asJson } from '../support/json-result.js';
import { type Handler, startLocalHandlers } from '../support/local-handlers.js';
import { captureOutput } from '../support/output-capture.js';

let local: LocalPam;
let list: Handler;
let drop: Handler;
const output = captureOutput();
const PAM_ENV = ['PAM_MAX_ATTEMPTS', 'PAM_RETRY_BASE_DELAY_MS', 'PAM_DROP_TIMEOUT_MS', 'PAM_LIST_TIMEOUT_MS'];

beforeAll(async () => {
  ({ local, list, drop } = await startLocalHandlers());
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  await local.s3.clear();
  process.env.PAM_RETRY_BASE_DELAY_MS = '5';
  local.pam.requests.length = 0;
  local.pam.clearFaults();
});

afterEach(() => {
  for (const name of PAM_ENV) delete process.env[name];
});

const activeSession = () => {
  const session = local.pam.sessions.find((candidate) => candidate.end === null);
  if (!session) throw new Error('the simulator ran out of active sessions');
  return session;
};
const pamRequests = (endpoint: 'list' | 'drop' | 'lookup') =>
  local.pam.requests.filter((request) => request.endpoint === endpoint);

describe('list over real HTTP against the simulator', () => {
  it('answers every session, normalised, with a count', async () => {
    const { statusCode, body } = asJson(await list(listEvent(), lambdaContext()));
    expect(statusCode).toBe(200);
    expect(body.count).toBe(local.pam.sessions.length);
    expect(body.sessions).toHaveLength(body.count);
    expect(body.malformed).toBe(0);
    expect(body.sessions[0]).toEqual(
      expect.objectContaining({
        session_id: expect.stringMatching(/^[0-9a-f]{40}$/),
        active: expect.any(Boolean),
        device_host: expect.any(String),
      }),
    );
  });

  it('filters by active, user, protocol, device and credential', async () => {
    const { body } = asJson(
      await list(listEvent({ active: 'true', user: 'aoliveira', protocol: 'ssh' }), lambdaContext()),
    );
    const expected = local.pam.sessions.filter((s) => s.end === null && s.user === 'aoliveira' && s.protocol === 'ssh');
    expect(body.sessions.map((s: { session_id: string }) => s.session_id).sort()).toEqual(
      expected.map((s) => s.session_id).sort(),
    );
    const byDevice = asJson(
      await list(listEvent({ device: '10.66.33.15', credential: 'usrdomadm01' }), lambdaContext()),
    ).body;
    expect(
      byDevice.sessions.every(
        (s: { device_host: string; credential: string }) =>
          s.device_host === '10.66.33.15' && s.credential === 'usrdomadm01',
      ),
    ).toBe(true);
    expect(byDevice.count).toBeGreaterThan(0);
  });

  it('refuses a bad filter with 400 and sends nothing to PAM', async () => {
    const { statusCode, body } = asJson(await list(listEvent({ active: 'maybe' }), lambdaContext()));
    expect(statusCode).toBe(400);
    expect(body).toEqual({ error: { code: 'invalid_request', message: 'active must be "true" or "false"' } });
    expect(local.pam.requests).toHaveLength(0);
  });
});

describe('drop over real HTTP against the simulator', () => {
  it('terminates a session, which the next list shows ended', async () => {
    const target = activeSession();
    const { statusCode, body } = asJson(await drop(dropEvent(target.session_id), lambdaContext()));
    expect({ statusCode, body }).toEqual({
      statusCode: 200,
      body: {
        session_id: target.session_id,
        status: 'terminated',
        resolved_from: 'live',
        index_age_ms: null,
        event_age_ms: expect.any(Number),
        confirmed: true,
      },
    });
    // Confirmed by one lookup of its numeric id after the DELETE.
    const [dropped] = pamRequests('drop');
    const lookups = pamRequests('lookup');
    expect(lookups.map((request) => request.path)).toEqual([`/api/session/remotesessions/${target.id}`]);
    expect(lookups[0]?.receivedAt).toBeGreaterThan(dropped?.receivedAt ?? Number.POSITIVE_INFINITY);
    const after = asJson(await list(listEvent({ active: 'true' }), lambdaContext())).body;
    expect(after.sessions.map((s: { session_id: string }) => s.session_id)).not.toContain(target.session_id);
    expect(pamRequests('drop')).toEqual([
      expect.objectContaining({ path: `/iso/session/drop/${target.session_id}`, status: 200 }),
    ]);
  });

  it('says confirmed false, and counts TerminationUnconfirmed, when PAM accepts the drop but keeps the session open', async () => {
    const target = activeSession();
    const accepted = { status: 200, message: 'Sessão interrompida com sucesso', error: false, error_code: 0 };
    local.pam.injectFault('drop', { kind: 'status', status: 200, body: JSON.stringify({ response: accepted }) });
    const mark = output.text().length;
    const { statusCode, body } = asJson(await drop(dropEvent(target.session_id), lambdaContext()));
    expect(statusCode).toBe(200);
    expect(body).toMatchObject({ session_id: target.session_id, status: 'terminated', confirmed: false });
    // Asked ENDED_CHECK_ATTEMPTS (3) times, each after the DELETE.
    expect(pamRequests('lookup')).toHaveLength(3);
    const unconfirmed = emfRecords(output.text().slice(mark)).filter((record) =>
      record.metrics.some(({ Name }) => Name === 'TerminationUnconfirmed'),
    );
    expect(unconfirmed.map((record) => record.values.TerminationUnconfirmed)).toEqual([1]);
    expect(local.pam.sessions.find((session) => session.session_id === target.session_id)?.end).toBeNull();
  });

  it('takes a direct invocation and returns the same object', async () => {
    const target = activeSession();
    await expect(drop({ session_id: target.session_id }, lambdaContext())).resolves.toEqual({
      session_id: target.session_id,
      status: 'terminated',
      resolved_from: 'live',
      index_age_ms: null,
      event_age_ms: expect.any(Number),
      confirmed: true,
    });
  });

  it('answers already_ended for a session that has ended, without asking PAM to drop it again', async () => {
    const ended = local.pam.sessions.find((session) => session.end !== null);
    const { statusCode, body } = asJson(await drop(dropEvent(ended?.session_id ?? ''), lambdaContext()));
    expect({ statusCode, body }).toEqual({
      statusCode: 200,
      body: {
        session_id: ended?.session_id,
        status: 'already_ended',
        resolved_from: 'live',
        index_age_ms: null,
        event_age_ms: expect.any(Number),
      },
    });
    expect(pamRequests('drop')).toHaveLength(0);
  });

  it('answers 404 for an id the PAM Core does not list, and sends no drop', async () => {
    const { statusCode, body } = asJson(
      await drop(dropEvent('0000000000000000000000000000000000000000'), lambdaContext()),
    );
    expect(statusCode).toBe(404);
    expect(body.error.code).toBe('session_not_found');
    expect(pamRequests('drop')).toHaveLength(0);
  });

  it("answers 502 with PAM's message when PAM refuses a drop of a session it still lists as active", async () => {
    local.pam.injectFault('drop', {
      kind: 'status',
      status: 500,
      body: JSON.stringify({
        response: { status: 500, message: 'An error occurred while droping session', error: true, error_code: 1 },
      }),
    });
    const target = activeSession();
    const { statusCode, body } = asJson(await drop(dropEvent(target.session_id), lambdaContext()));
    expect(statusCode).toBe(502);
    expect(body).toEqual({
      error: {
        code: 'pam_rejected',
        message: 'PAM Core answered HTTP 500 (error_code 1): An error occurred while droping session',
      },
    });
    expect(pamRequests('drop')).toHaveLength(1);
  });

  it("refuses with 409 to terminate a protected user's session, and sends no drop", async () => {
    process.env.PROTECTED_USERS = 'Break_Glass, someone-else';
    try {
      const target = local.pam.sessions.find((session) => session.user === 'break_glass' && session.end === null);
      const { statusCode, body } = asJson(await drop(dropEvent(target?.session_id ?? ''), lambdaContext()));
      expect(statusCode).toBe(409);
      expect(body.error).toEqual({
        code: 'protected_session',
        message: `Session ${target?.session_id} was not terminated: user "break_glass" is protected (PROTECTED_USERS)`,
      });
      expect(pamRequests('drop')).toHaveLength(0);
    } finally {
      delete process.env.PROTECTED_USERS;
    }
  });

  it.each(['../remotesessions', 'a%2Fb', 'x'.repeat(129), 'abc def', ''])(
    'refuses the id %j with 400 and sends nothing',
    async (id) => {
      const { statusCode, body } = asJson(await drop(dropEvent(id), lambdaContext()));
      expect(statusCode).toBe(400);
      expect(body.error.code).toBe('invalid_request');
      expect(local.pam.requests).toHaveLength(0);
    },
  );

  it.each([[{}], [{ session_id: 42 }], [{ session_id: '../x' }], [null], ['abc'], [[]]])(
    'throws a ValidationError for the direct invocation %j and sends nothing',
    async (event) => {
      await expect(drop(event, lambdaContext())).rejects.toMatchObject({ name: 'ValidationError' });
      expect(local.pam.requests).toHaveLength(0);
    },
  );
});

describe('retries, timeouts and the Lambda deadline', () => {
  it('retries 503 and 502 with a freshly signed request each time, then succeeds', async () => {
    local.pam.injectFault('drop', {
      kind: 'status',
      status: 503,
      body: '<html><body>Service Unavailable</body></html>',
      contentType: 'text/html',
    });
    local.pam.injectFault('drop', {
      kind: 'status',
      status: 502,
      body: '{"message":"An invalid response was received from the upstream server"}',
    });
    const target = activeSession();
    expect(asJson(await drop(dropEvent(target.session_id), lambdaContext())).statusCode).toBe(200);
    const attempts = pamRequests('drop');
    expect(attempts.map((request) => request.status)).toEqual([503, 502, 200]);
    expect(new Set(attempts.map((request) => request.nonce)).size).toBe(3);
  });

  it('gives up after PAM_MAX_ATTEMPTS and says what PAM answered last', async () => {
    process.env.PAM_MAX_ATTEMPTS = '2';
    local.pam.injectFault('list', { kind: 'status', status: 429, body: '{"message":"API rate limit exceeded"}' }, 5);
    const { statusCode, body } = asJson(await list(listEvent(), lambdaContext()));
    expect(statusCode).toBe(502);
    expect(body.error).toEqual({
      code: 'pam_bad_response',
      message: "PAM Core's gateway answered HTTP 429 without PAM's response envelope: API rate limit exceeded",
    });
    expect(pamRequests('list')).toHaveLength(2);
  });

  it('answers 504 when PAM does not answer in time, after retrying', async () => {
    process.env.PAM_DROP_TIMEOUT_MS = '250';
    process.env.PAM_MAX_ATTEMPTS = '2';
    local.pam.injectFault('drop', { kind: 'delay', ms: 1_000 }, 2);
    const target = activeSession();
    const { statusCode, body } = asJson(await drop(dropEvent(target.session_id), lambdaContext()));
    expect({ statusCode, body }).toEqual({
      statusCode: 504,
      body: { error: { code: 'pam_timeout', message: 'PAM Core did not answer within 250 ms' } },
    });
  });

  it('retries a connection reset', async () => {
    local.pam.injectFault('list', { kind: 'reset' });
    expect(asJson(await list(listEvent(), lambdaContext())).statusCode).toBe(200);
  });

  it('never waits past the Lambda deadline', async () => {
    process.env.PAM_DROP_TIMEOUT_MS = '10000';
    process.env.PAM_MAX_ATTEMPTS = '5';
    // PAM would take 20 s an attempt: a drop that ignored the deadline would run for minutes, not seconds.
    local.pam.injectFault('drop', { kind: 'delay', ms: 20_000 }, 5);
    const started = Date.now();
    const { statusCode } = asJson(
      await drop(dropEvent(activeSession().session_id), lambdaContext({ remainingMs: 1_500 })),
    );
    expect(statusCode).toBe(504);
    // The deadline is 1.5 s; 5 times that leaves room for a busy machine.
    expect(Date.now() - started).toBeLessThan(7_500);
  });
});

describe('credentials', () => {
  afterEach(async () => {
    local.pam.setCredentials(local.credentials);
    local.secrets.putSecret(local.secretId, pamSecretString(local.pam.url, local.credentials));
    forgetCachedSecret();
  });

  it('picks up a rotated secret after PAM answers 401, and retries once', async () => {
    await list(listEvent(), lambdaContext());
    const rotated = randomCredentials();
    local.pam.setCredentials(rotated);
    local.secrets.putSecret(local.secretId, pamSecretString(local.pam.url, rotated));
    const readsBefore = local.secrets.reads;
    local.pam.requests.length = 0;

    const { statusCode } = asJson(await list(listEvent(), lambdaContext()));
    expect(statusCode).toBe(200);
    expect(pamRequests('list').map((request) => request.status)).toEqual([401, 200]);
    expect(local.secrets.reads - readsBefore).toBe(1);
  });

  it('refuses a wrong signature, and says so after re-reading the secret once', async () => {
    local.secrets.putSecret(
      local.secretId,
      pamSecretString(local.pam.url, { ...local.credentials, tokenSecret: 'wrong' }),
    );
    forgetCachedSecret();
    const { statusCode, body } = asJson(await drop(dropEvent(activeSession().session_id), lambdaContext()));
    expect(statusCode).toBe(502);
    expect(body.error.code).toBe('pam_unauthorized');
    expect(body.error.message).toMatch(/refused the OAuth credentials \(HTTP 401\) even after re-reading the secret/);
    expect(pamRequests('list').map((request) => request.status)).toEqual([401, 401]);
    expect(pamRequests('drop')).toHaveLength(0);
    expect(local.pam.sessions.filter((session) => session.end === null).length).toBeGreaterThan(0);
  });

  it('answers 500 naming the missing key when the secret is incomplete, and sends nothing', async () => {
    local.secrets.putSecret(local.secretId, JSON.stringify({ base_url: local.pam.url, consumer_key: 'ck' }));
    forgetCachedSecret();
    const { statusCode, body } = asJson(await list(listEvent(), lambdaContext()));
    expect(statusCode).toBe(500);
    expect(body.error).toEqual({
      code: 'configuration_error',
      message: `Secret "${local.secretId}": key "consumer_secret" is missing; key "token_key" is missing; key "token_secret" is missing (or give client_id and client_secret for OAuth 2.0)`,
    });
    expect(local.pam.requests).toHaveLength(0);
  });

  it('answers 500 when the secret does not exist', async () => {
    process.env.PAM_SECRET_ID = 'pam-session-responder/absent';
    try {
      const { statusCode, body } = asJson(await list(listEvent(), lambdaContext()));
      expect(statusCode).toBe(500);
      expect(body.error.message).toBe(
        'Secret "pam-session-responder/absent" was not found (check PAM_SECRET_ID and the region)',
      );
    } finally {
      process.env.PAM_SECRET_ID = local.secretId;
    }
  });

  it('never writes a secret, a signature or an Authorization header to the logs', async () => {
    const mark = output.text().length;
    await list(listEvent(), lambdaContext());
    await drop(dropEvent(activeSession().session_id), lambdaContext());
    const logs = output.text().slice(mark);
    expect(logs.length).toBeGreaterThan(0);
    for (const value of Object.values(local.credentials)) expect(logs).not.toContain(value);
    expect(logs).not.toMatch(/oauth_signature|oauth_nonce|"authorization"|OAuth oauth_/i);
  });
});
