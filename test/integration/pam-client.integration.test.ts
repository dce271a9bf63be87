import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LocalPam, pamSecretString, randomCredentials, startLocalPam } from '../../infra/local/local-pam.js';
import { type SimulatedSession, seedSessions, sessionHash } from '../../infra/pam-simulator/seed-sessions.js';
import { type PamSimulator, startPamSimulator } from '../../infra/pam-simulator/server.js';
import { dropSession, streamRemoteSessionBlocks, streamRemoteSessions } from '../../lib/pam/pam-client.js';
import { PamApiError } from '../../lib/pam/pam-errors.js';
import { forgetCachedSecret, loadPamConnection } from '../../lib/pam/pam-secret.js';
import { captureOutput, logLinesSaying } from '../support/output-capture.js';
import { pamEnvelope, rejectionOf } from '../support/pam-answers.js';

/**
 * The PAM client itself, in this process, against the simulator on loopback: what each attempt
 * sends, when it is retried, how long it may take, and what the operator reads when it fails.
 * The handlers' tests (responder, fault matrix) reach the same code through a whole termination.
 */
let local: LocalPam;
/** A PAM Core that also takes OAuth 2.0 bearer tokens. */
let oauth2Pam: PamSimulator;
/** A bare server on loopback that records each request's headers and answers PAM's success envelope. */
let recorder: Server;
const seenHeaders: IncomingHttpHeaders[] = [];
const output = captureOutput();
const client = { clientId: 'pam-session-responder', clientSecret: 'oauth2-client-secret-e91c' };
const ENV = {
  PAM_MAX_ATTEMPTS: '3',
  PAM_RETRY_BASE_DELAY_MS: '5',
  PAM_DROP_TIMEOUT_MS: '2000',
  POWERTOOLS_METRICS_DISABLED: 'true',
};
const DROP_OK = pamEnvelope(200, 'ok', 0);

beforeAll(async () => {
  local = await startLocalPam();
  Object.assign(process.env, local.env);
  oauth2Pam = await startPamSimulator({ credentials: local.credentials, clientCredentials: client });
  local.secrets.putSecret(
    'oauth2',
    JSON.stringify({ base_url: oauth2Pam.url, client_id: client.clientId, client_secret: client.clientSecret }),
  );
  recorder = createServer((request, response) => {
    seenHeaders.push(request.headers);
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json' }).end(DROP_OK);
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  const { port } = recorder.address() as AddressInfo;
  local.secrets.putSecret('recorder', pamSecretString(`http://127.0.0.1:${port}`, local.credentials));
});

afterAll(async () => {
  await Promise.all([local.close(), oauth2Pam.close(), new Promise((resolve) => recorder.close(resolve))]);
});

/** Sessions this file opened, numbered above the seed's. */
let added = 0;
/** Each test finds at least four sessions open, whichever tests ran before it and ended some. */
function keepFourOpen(): void {
  const missing = 4 - openIds().length;
  if (missing <= 0) return;
  const template = seedSessions()[0] as SimulatedSession;
  local.pam.openSessions(
    Array.from({ length: missing }, () => {
      added += 1;
      return {
        ...template,
        id: String(1_000 + added),
        session_id: sessionHash(`pam-client-${added}`),
        end: null,
        time: null,
      };
    }),
  );
}

beforeEach(() => {
  Object.assign(process.env, local.env, ENV);
  forgetCachedSecret();
  local.pam.clearFaults();
  local.pam.requests.length = 0;
  keepFourOpen();
});

afterEach(() => {
  vi.restoreAllMocks();
  for (const name of Object.keys(ENV)) delete process.env[name];
});

const openIds = () => local.pam.sessions.filter((session) => session.end === null).map((s) => s.session_id);
const drops = () => local.pam.requests.filter((request) => request.endpoint === 'drop');
/** The log lines written since `from` with this message, as JSON. */
const logLines = (message: string, from: number) => logLinesSaying(output.text().slice(from), message);

/** The PamApiError the call failed with (any other error fails the test). */
async function failure(promise: Promise<unknown>): Promise<PamApiError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(PamApiError);
  return error;
}

async function drain(blocks: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of blocks);
}

describe('one call to the PAM Core', () => {
  it('asks for JSON', async () => {
    process.env.PAM_SECRET_ID = 'recorder';
    await dropSession(openIds()[0] ?? '');
    expect(seenHeaders.at(-1)).toMatchObject({ accept: 'application/json' });
    expect(seenHeaders.at(-1)?.authorization).toMatch(/^OAuth oauth_consumer_key=/);
  });

  it('retries what may pass, telling the operator each time but the last, and never what cannot', async () => {
    const [first, second] = openIds();
    local.pam.injectFault('drop', { kind: 'status', status: 503, body: pamEnvelope(503, 'busy') }, 2);
    let from = output.text().length;
    await dropSession(first ?? '');
    expect(drops().map((request) => request.status)).toEqual([503, 503, 200]);
    expect(logLines('PAM request failed, will retry', from)).toMatchObject([
      { operation: 'drop', attempt: 1, kind: 'rejected', status: 503 },
      { operation: 'drop', attempt: 2, kind: 'rejected', status: 503 },
    ]);

    local.pam.injectFault('drop', { kind: 'status', status: 503, body: pamEnvelope(503, 'busy') }, 3);
    from = output.text().length;
    expect(await failure(dropSession(second ?? ''))).toMatchObject({ kind: 'rejected', status: 503 });
    expect(logLines('PAM request failed, will retry', from)).toHaveLength(2);

    local.pam.requests.length = 0;
    local.pam.injectFault('drop', { kind: 'status', status: 500, body: pamEnvelope(500, 'no') });
    from = output.text().length;
    expect(await failure(dropSession(second ?? ''))).toMatchObject({ kind: 'rejected', retryable: false });
    expect(drops()).toHaveLength(1);
    expect(logLines('PAM request failed, will retry', from)).toEqual([]);
  });

  it('waits a randomised, growing time between attempts', async () => {
    process.env.PAM_RETRY_BASE_DELAY_MS = '100';
    vi.spyOn(Math, 'random').mockReturnValue(0.99);
    local.pam.injectFault('drop', { kind: 'status', status: 503, body: pamEnvelope(503, 'busy') }, 2);
    await dropSession(openIds()[0] ?? '');
    const [a = 0, b = 0, c = 0] = drops().map((request) => request.receivedAt);
    // With jitter at its top, about 2x the base, then 2x that: never the bare 100 and 200 ms.
    expect(b - a).toBeGreaterThanOrEqual(180);
    expect(c - b).toBeGreaterThanOrEqual(360);
  });

  it('takes by default the time of every attempt, each with its whole time limit', async () => {
    process.env.PAM_DROP_TIMEOUT_MS = '1500';
    local.pam.injectFault('drop', { kind: 'delay', ms: 800 });
    await dropSession(openIds()[0] ?? '');
    expect(drops().map((request) => request.status)).toEqual([200]);
  });

  it('gives each attempt no more than the time left before the deadline', async () => {
    process.env.PAM_MAX_ATTEMPTS = '1';
    local.pam.injectFault('drop', { kind: 'delay', ms: 1500 });
    const error = await failure(dropSession(openIds()[0] ?? '', { deadline: Date.now() + 600 }));
    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
    const limit = Number(/did not answer within (\d+) ms$/.exec(error.message)?.[1]);
    expect(limit).toBeGreaterThan(0);
    expect(limit).toBeLessThanOrEqual(600);
  });

  it('sends nothing once the deadline is past or too near, saying so', async () => {
    for (const deadline of [Date.now() - 1_000, Date.now() + 100]) {
      const error = await failure(dropSession(openIds()[0] ?? '', { deadline }));
      expect(error).toMatchObject({
        kind: 'timeout',
        retryable: false,
        message: 'No time left before the Lambda timeout to call the PAM Core',
      });
    }
    expect(drops()).toEqual([]);
  });

  it('starts an attempt with exactly 200 ms left', async () => {
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now);
    local.pam.injectFault('drop', { kind: 'status', status: 200, body: DROP_OK });
    await dropSession(openIds()[0] ?? '', { deadline: now + 200 });
    expect(drops()).toHaveLength(1);
  });

  it('does not retry past the deadline: no backoff is waited that ends after it', async () => {
    process.env.PAM_RETRY_BASE_DELAY_MS = '3000';
    local.pam.injectFault('drop', { kind: 'status', status: 503, body: pamEnvelope(503, 'busy') }, 3);
    const started = performance.now();
    const error = await failure(dropSession(openIds()[0] ?? '', { deadline: Date.now() + 1_500 }));
    expect(error).toMatchObject({ kind: 'rejected', status: 503 });
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(drops()).toHaveLength(1);
  });

  it('says how long it waited for an answer that never came, and may try again', async () => {
    process.env.PAM_DROP_TIMEOUT_MS = '300';
    process.env.PAM_MAX_ATTEMPTS = '1';
    // The secret is read before the first attempt and counts against the call's time: read it first.
    await loadPamConnection();
    local.pam.injectFault('drop', { kind: 'delay', ms: 1_000 });
    const error = await failure(dropSession(openIds()[0] ?? ''));
    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
    // The call's time starts before its attempt, which gets what is left of the 300 ms (299 when a millisecond passed).
    const waited = Number(/^PAM Core did not answer within (\d+) ms$/.exec(error.message)?.[1]);
    expect(waited).toBeGreaterThan(250);
    expect(waited).toBeLessThanOrEqual(300);
    expect(error.cause).toMatchObject({ name: 'TimeoutError' });
  });

  it('calls a connection that broke before any answer unreachable, with its cause, and tries again', async () => {
    process.env.PAM_MAX_ATTEMPTS = '2';
    local.pam.injectFault('drop', { kind: 'reset' }, 2);
    const error = await failure(dropSession(openIds()[0] ?? ''));
    expect(error).toMatchObject({
      kind: 'unreachable',
      retryable: true,
      message: 'Could not reach the PAM Core (ECONNRESET)',
    });
    expect(error.cause).toMatchObject({ code: 'ECONNRESET' });
    expect(drops()).toHaveLength(2);
  });

  it('never sends again a drop whose answer broke off: PAM has likely acted', async () => {
    const [id] = openIds();
    local.pam.injectFault('drop', { kind: 'truncate', afterBytes: 10, body: DROP_OK, endSession: true });
    const error = await failure(dropSession(id ?? ''));
    expect(error).toMatchObject({ kind: 'bad_response', status: 200, retryable: false });
    expect(error.message).toMatch(/^PAM Core's answer broke off before its end \((ECONNRESET|aborted)\)$/);
    expect(error.cause).toBeInstanceOf(Error);
    expect(drops()).toHaveLength(1);
  });

  it('takes an answer that ran out of time halfway for a timeout', async () => {
    process.env.PAM_DROP_TIMEOUT_MS = '400';
    process.env.PAM_MAX_ATTEMPTS = '1';
    await loadPamConnection();
    local.pam.injectFault('drop', { kind: 'drip', bytesPerWrite: 5, pauseMs: 100, body: DROP_OK });
    const error = await failure(dropSession(openIds()[0] ?? ''));
    expect(error).toMatchObject({ kind: 'timeout', message: 'PAM Core did not answer within 400 ms' });
  });

  it('reads an envelope of up to 1 MiB, and refuses a larger one unread', async () => {
    const limit = 1024 * 1024;
    local.pam.injectFault('drop', { kind: 'status', status: 200, body: DROP_OK.padEnd(limit, ' ') });
    await dropSession(openIds()[0] ?? '');
    local.pam.injectFault('drop', { kind: 'status', status: 200, body: DROP_OK.padEnd(limit + 1, ' ') });
    const error = await failure(dropSession(openIds()[1] ?? ''));
    expect(error).toMatchObject({
      kind: 'bad_response',
      retryable: false,
      message: `PAM Core answered HTTP 200 with more than ${limit} bytes where its short response envelope was expected`,
    });
  });
});

describe('refused credentials', () => {
  it('reads the secret again when PAM refuses the credentials, and goes on with the rotated ones', async () => {
    await dropSession(openIds()[0] ?? '');
    const rotated = randomCredentials();
    local.secrets.putSecret(local.secretId, pamSecretString(local.pam.url, rotated));
    local.pam.setCredentials(rotated);
    try {
      const from = output.text().length;
      await dropSession(openIds()[0] ?? '');
      expect(drops().map((request) => request.status)).toEqual([200, 401, 200]);
      expect(
        logLines('PAM Core refused the credentials; re-reading the secret in case it was rotated', from),
      ).toMatchObject([{ operation: 'drop' }]);
    } finally {
      local.secrets.putSecret(local.secretId, pamSecretString(local.pam.url, local.credentials));
      local.pam.setCredentials(local.credentials);
    }
  });

  it('says which secret to check when the credentials are refused even after reading it again', async () => {
    local.pam.setCredentials(randomCredentials());
    try {
      const error = await failure(dropSession(openIds()[0] ?? ''));
      expect(error).toMatchObject({ kind: 'unauthorized', retryable: false, status: 401 });
      expect(error.message).toBe(
        `PAM Core refused the OAuth credentials (HTTP 401) even after re-reading the secret: check the A2A application's keys in ${local.secretId}`,
      );
      expect(error.cause).toMatchObject({ kind: 'unauthorized', status: 401 });
      expect(drops().map((request) => request.status)).toEqual([401, 401]);
    } finally {
      local.pam.setCredentials(local.credentials);
    }
  });

  it('passes on another failure of the second try as it is', async () => {
    local.pam.injectFault('drop', { kind: 'status', status: 401, body: pamEnvelope(401, 'refused') });
    local.pam.injectFault('drop', { kind: 'status', status: 500, body: pamEnvelope(500, 'broken') });
    const error = await failure(dropSession(openIds()[0] ?? ''));
    expect(error).toMatchObject({ kind: 'rejected', status: 500, pamMessage: 'broken' });
    expect(drops().map((request) => request.status)).toEqual([401, 500]);
  });

  it('with OAuth 2.0, keeps its token, and renews it once after a 401, on the first attempt only', async () => {
    process.env.PAM_SECRET_ID = 'oauth2';
    const open = oauth2Pam.sessions.filter((session) => session.end === null).map((s) => s.session_id);
    await dropSession(open[0] ?? '');
    await dropSession(open[1] ?? '');
    expect(oauth2Pam.tokensIssued).toBe(1);
    oauth2Pam.revokeTokens();
    oauth2Pam.injectFault('drop', { kind: 'status', status: 503, body: pamEnvelope(503, 'busy') });
    // 401 with the revoked token; the secret read again; a new token (503), then the same token again (200).
    await dropSession(open[2] ?? '');
    expect(oauth2Pam.tokensIssued).toBe(2);
    const statuses = oauth2Pam.requests.filter((r) => r.endpoint === 'drop').map((r) => r.status);
    expect(statuses.slice(-3)).toEqual([401, 503, 200]);
  });
});

describe('the session list as it arrives', () => {
  it('hands out only blocks and batches that hold something, however the list is cut', async () => {
    local.pam.injectFault('list', { kind: 'drip', bytesPerWrite: 7, pauseMs: 0 });
    const blocks = [];
    for await (const block of streamRemoteSessionBlocks()) blocks.push(block);
    expect(blocks.length).toBeGreaterThan(1);
    expect(blocks.every((block) => block.ranges.length > 0)).toBe(true);
    local.pam.injectFault('list', { kind: 'drip', bytesPerWrite: 7, pauseMs: 0 });
    const batches = [];
    for await (const batch of streamRemoteSessions({})) batches.push(batch);
    expect(batches.every((batch) => batch.length > 0)).toBe(true);
    expect(batches.flat()).toHaveLength(local.pam.sessions.length);
  });

  it("refuses a failed answer before streaming it, with PAM's words", async () => {
    for (const status of [500, 300]) {
      local.pam.injectFault('list', { kind: 'status', status, body: pamEnvelope(status, 'list failed') });
      expect(await failure(drain(streamRemoteSessionBlocks()))).toMatchObject({
        kind: 'rejected',
        status,
        pamMessage: 'list failed',
      });
    }
    local.pam.injectFault('list', {
      kind: 'status',
      status: 300,
      body: '<html>Moved</html>',
      contentType: 'text/html',
    });
    expect(await failure(drain(streamRemoteSessionBlocks()))).toMatchObject({
      kind: 'bad_response',
      message: 'PAM Core answered HTTP 300 with an HTML page instead of JSON',
    });
  });

  it('retries a list its gateway could not serve, as any call, before streaming anything', async () => {
    local.pam.injectFault('list', { kind: 'status', status: 503, body: '', contentType: 'text/plain' });
    local.pam.injectFault('list', {
      kind: 'status',
      status: 502,
      body: '<html>Bad Gateway</html>',
      contentType: 'text/html',
    });
    const batches = [];
    for await (const batch of streamRemoteSessions({})) batches.push(batch);
    expect(batches.flat()).toHaveLength(local.pam.sessions.length);
    const lists = local.pam.requests.filter((request) => request.endpoint === 'list');
    expect(lists.map((request) => request.status)).toEqual([503, 502, 200]);
  });

  it("reads PAM's error envelope after the records as a refusal", async () => {
    const body = JSON.stringify({ response: { status: 500, error: true, message: 'late' }, remote_sessions: [] });
    local.pam.injectFault('list', { kind: 'status', status: 200, body });
    expect(await failure(drain(streamRemoteSessionBlocks()))).toMatchObject({ kind: 'rejected', pamMessage: 'late' });
  });

  it('says what is wrong with a list that is not JSON, and never asks for it again', async () => {
    const body = '{"response":{"status":200},"remote_sessions":[{"id":"1",]}';
    local.pam.injectFault('list', { kind: 'status', status: 200, body });
    const error = await failure(drain(streamRemoteSessionBlocks()));
    expect(error).toMatchObject({ kind: 'bad_response', status: 200, retryable: false });
    expect(error.message).toMatch(/^PAM Core's session list is not valid JSON: /);
    expect(error.cause).toBeInstanceOf(Error);
    expect(local.pam.requests.filter((request) => request.endpoint === 'list')).toHaveLength(1);
  });

  it('says so when the list broke off', async () => {
    local.pam.injectFault('list', { kind: 'truncate', afterBytes: 300 });
    const error = await failure(drain(streamRemoteSessionBlocks()));
    expect(error).toMatchObject({ kind: 'bad_response', retryable: false });
    expect(error.message).toMatch(/^PAM Core's session list broke off before its end \(/);
  });

  it('refuses an answer without a remote_sessions array', async () => {
    local.pam.injectFault('list', { kind: 'status', status: 200, body: JSON.stringify({ response: { status: 200 } }) });
    expect(await failure(drain(streamRemoteSessionBlocks()))).toMatchObject({
      kind: 'bad_response',
      status: 200,
      retryable: false,
      message: 'PAM Core answered the session list without a remote_sessions array',
    });
  });

  it('lets the connection go when the reader stops early', async () => {
    // About 4 KB, 64 bytes every 100 ms: 6 s to send whole.
    local.pam.injectFault('list', { kind: 'drip', bytesPerWrite: 64, pauseMs: 100 });
    for await (const _ of streamRemoteSessionBlocks()) break;
    // The simulator is done once the client has closed its side; a body left unread would hold it.
    await expect(Promise.race([local.pam.idle().then(() => 'idle'), sleep(2_000, 'busy')])).resolves.toBe('idle');
  });
});
