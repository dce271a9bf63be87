import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dropEvent, lambdaContext, listEvent } from '../../infra/local/lambda-events.js';
import type { LocalPam } from '../../infra/local/local-pam.js';
import { forgetCachedSecret } from '../../lib/pam/pam-secret.js';
import { asJson } from '../support/json-result.js';
import { type Handler, startLocalHandlers } from '../support/local-handlers.js';
import { captureOutput } from '../support/output-capture.js';

const client = { clientId: 'pam-session-responder', clientSecret: 'oauth2-SUPERSECRET-7f3a' };
let local: LocalPam;
let list: Handler;
let drop: Handler;
const output = captureOutput();

beforeAll(async () => {
  ({ local, list, drop } = await startLocalHandlers(
    { clientCredentials: client, tokenLifetimeSeconds: 2 },
    { PAM_RETRY_BASE_DELAY_MS: '5' },
    (stack) =>
      stack.secrets.putSecret(
        stack.secretId,
        JSON.stringify({ base_url: stack.pam.url, client_id: client.clientId, client_secret: client.clientSecret }),
      ),
  ));
  forgetCachedSecret();
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  await local.s3.clear();
  local.pam.requests.length = 0;
});

const tokenRequests = () => local.pam.requests.filter((request) => request.endpoint === 'token');

describe('OAuth 2.0 client credentials', () => {
  it('gets a token from /iso/oauth2/token and reuses it until shortly before it expires', async () => {
    // Whatever token an earlier test left in this container has expired (tokens live 2 s here).
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    local.pam.requests.length = 0;
    expect(asJson(await list(listEvent(), lambdaContext())).statusCode).toBe(200);
    expect(asJson(await list(listEvent({ active: 'true' }), lambdaContext())).statusCode).toBe(200);
    expect(tokenRequests()).toEqual([
      expect.objectContaining({ method: 'POST', path: '/iso/oauth2/token', status: 200 }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(asJson(await list(listEvent(), lambdaContext())).statusCode).toBe(200);
    expect(tokenRequests()).toHaveLength(2);
    expect(
      local.pam.requests.filter((request) => request.endpoint === 'list').every((request) => request.status === 200),
    ).toBe(true);
  });

  it('shares one token request between concurrent calls', async () => {
    local.pam.revokeTokens();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const before = local.pam.tokensIssued;
    const answers = await Promise.all(Array.from({ length: 8 }, () => list(listEvent(), lambdaContext())));
    expect(answers.map((answer) => asJson(answer).statusCode)).toEqual(Array(8).fill(200));
    expect(local.pam.tokensIssued - before).toBe(1);
  });

  it('fetches a new token once when PAM answers 401, and goes on', async () => {
    await list(listEvent(), lambdaContext());
    local.pam.revokeTokens();
    local.pam.requests.length = 0;
    const target = local.pam.sessions.find((session) => session.end === null);
    const { statusCode, body } = asJson(await drop(dropEvent(target?.session_id ?? ''), lambdaContext()));
    expect({ statusCode, body }).toEqual({
      statusCode: 200,
      body: {
        session_id: target?.session_id,
        status: 'terminated',
        resolved_from: 'live',
        index_age_ms: null,
        event_age_ms: expect.any(Number),
        confirmed: true,
      },
    });
    expect(local.pam.requests.map((request) => `${request.endpoint} ${request.status}`)).toEqual([
      'list 401',
      'token 200',
      'list 200',
      'drop 200',
      'lookup 200',
    ]);
  });

  it('says so when the client credentials are refused, without quoting them', async () => {
    local.secrets.putSecret(
      local.secretId,
      JSON.stringify({ base_url: local.pam.url, client_id: client.clientId, client_secret: 'wrong' }),
    );
    forgetCachedSecret();
    local.pam.revokeTokens();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    try {
      const { statusCode, body } = asJson(await list(listEvent(), lambdaContext()));
      expect(statusCode).toBe(502);
      expect(body.error.code).toBe('pam_unauthorized');
      expect(JSON.stringify(body)).not.toContain('wrong');
    } finally {
      local.secrets.putSecret(
        local.secretId,
        JSON.stringify({ base_url: local.pam.url, client_id: client.clientId, client_secret: client.clientSecret }),
      );
      forgetCachedSecret();
    }
  });

  it('retries a token request the endpoint could not answer (503, 429), as any call, and goes on', async () => {
    // Seen: one 503 from the token endpoint became "PAM refused the OAuth 2.0 client credentials".
    local.pam.revokeTokens();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    local.pam.requests.length = 0;
    local.pam.injectFault('token', { kind: 'status', status: 503, body: '<html>503 Service Unavailable</html>' });
    local.pam.injectFault('token', { kind: 'status', status: 429, body: '{"message":"API rate limit exceeded"}' });
    const { statusCode } = asJson(await list(listEvent(), lambdaContext()));
    expect(statusCode).toBe(200);
    expect(tokenRequests().map((request) => request.status)).toEqual([503, 429, 200]);
  });

  it('never runs a failing token endpoint past the time the call has', async () => {
    local.pam.revokeTokens();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // 20 s a token request: one that ignored the call's time would run for minutes.
    local.pam.injectFault('token', { kind: 'delay', ms: 20_000 }, 5);
    const started = Date.now();
    const { statusCode, body } = asJson(await list(listEvent(), lambdaContext({ remainingMs: 1_500 })));
    // The call has 1.5 s; 5 times that leaves room for a busy machine.
    expect(Date.now() - started).toBeLessThan(7_500);
    expect(statusCode).toBe(504);
    expect(body.error.code).toBe('pam_timeout');
    local.pam.clearFaults();
  });

  it('never logs the client secret or a bearer token', async () => {
    const mark = output.text().length;
    local.pam.revokeTokens();
    await list(listEvent(), lambdaContext());
    await drop(
      dropEvent(local.pam.sessions.find((session) => session.end === null)?.session_id ?? ''),
      lambdaContext(),
    );
    const logs = output.text().slice(mark);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(client.clientSecret);
    expect(logs).not.toMatch(/Bearer [A-Za-z0-9_-]{10,}/);
  });
});
