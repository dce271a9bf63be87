import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { bearerToken, type TokenSource } from '../../lib/pam/oauth2-token.js';
import { PamApiError } from '../../lib/pam/pam-errors.js';

/** A token endpoint on loopback: each request is recorded, and answered as the test says. */
type Answer = { status?: number; body: string; hold?: boolean };
const seen: Array<{ method?: string; url?: string; headers: IncomingMessage['headers']; body: string }> = [];
let answer: Answer = { body: '' };
const held: ServerResponse[] = [];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      seen.push({
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (answer.hold) {
        held.push(response);
        return;
      }
      response.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
      response.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const response of held) response.destroy();
  await new Promise((resolve) => server.close(resolve));
});
afterEach(() => {
  seen.length = 0;
  vi.useRealTimers();
});

/** Each test its own client: the token cache is the module's, keyed by base URL and client id. */
let clients = 0;
const source = (): TokenSource => ({
  baseUrl,
  clientId: `pam-session-responder-${++clients}`,
  clientSecret: 'oauth2-SUPERSECRET-7f3a',
  caCertificate: undefined,
});
const token = (value: string, expiresIn: unknown = 3600) =>
  ({ body: JSON.stringify({ access_token: value, token_type: 'Bearer', expires_in: expiresIn }) }) as Answer;
async function refusal(promise: Promise<unknown>): Promise<PamApiError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof PamApiError)) throw new Error(`expected a PamApiError, got ${String(error)}`);
  return error;
}

describe('the OAuth 2.0 token', () => {
  it('is asked for with the client credentials as a form, by POST to /iso/oauth2/token', async () => {
    answer = token('tok-1');
    const client = source();
    expect(await bearerToken(client)).toBe('tok-1');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/iso/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    });
    expect(seen[0]?.headers['content-length']).toBe(String(Buffer.byteLength(seen[0]?.body ?? '')));
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toEqual({
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: 'oauth2-SUPERSECRET-7f3a',
    });
  });

  it('is kept until a tenth of its lifetime before it expires, then asked for again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse('2026-12-07T10:00:00.000Z'));
    answer = token('tok-100s', 100);
    const client = source();
    await bearerToken(client);
    vi.setSystemTime(Date.parse('2026-12-07T10:01:29.999Z'));
    expect(await bearerToken(client)).toBe('tok-100s');
    expect(seen).toHaveLength(1);
    answer = token('tok-next', 100);
    vi.setSystemTime(Date.parse('2026-12-07T10:01:30.000Z'));
    expect(await bearerToken(client)).toBe('tok-next');
    expect(seen).toHaveLength(2);
  });

  it('is renewed at most a minute before it expires', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse('2026-12-07T10:00:00.000Z'));
    answer = token('tok-1000s', '1000');
    const client = source();
    await bearerToken(client);
    vi.setSystemTime(Date.parse('2026-12-07T10:15:39.999Z'));
    await bearerToken(client);
    expect(seen).toHaveLength(1);
    vi.setSystemTime(Date.parse('2026-12-07T10:15:40.000Z'));
    await bearerToken(client);
    expect(seen).toHaveLength(2);
  });

  it('is kept per PAM Core and client, shared by concurrent callers, and dropped on renew', async () => {
    answer = token('tok-shared');
    const client = source();
    const other = source();
    const tokens = await Promise.all([bearerToken(client), bearerToken(client), bearerToken(client)]);
    expect(tokens).toEqual(['tok-shared', 'tok-shared', 'tok-shared']);
    expect(seen).toHaveLength(1);
    await bearerToken(other);
    expect(seen).toHaveLength(2);
    answer = token('tok-renewed');
    expect(await bearerToken(client, { renew: true })).toBe('tok-renewed');
    expect(await bearerToken(client)).toBe('tok-renewed');
    expect(seen).toHaveLength(3);
  });

  it('asks again after a failed request: a failure is not shared with later callers', async () => {
    answer = { status: 503, body: 'busy' };
    const client = source();
    await refusal(bearerToken(client));
    answer = token('tok-after');
    expect(await bearerToken(client)).toBe('tok-after');
  });
});

describe('a token endpoint that does not give one', () => {
  it.each([429, 502, 503, 504])('HTTP %i may pass: retryable, and the body never quoted', async (status) => {
    answer = { status, body: 'client_secret=oauth2-SUPERSECRET-7f3a' };
    const error = await refusal(bearerToken(source()));
    expect(error).toMatchObject({
      kind: 'rejected',
      status,
      retryable: true,
      message: `PAM Core's /iso/oauth2/token answered HTTP ${status}; no token could be had`,
    });
  });

  it.each([
    [400, 'unauthorized'],
    [401, 'unauthorized'],
    [403, 'rejected'],
    [500, 'rejected'],
  ])('HTTP %i refuses the client credentials (%s), for good', async (status, kind) => {
    answer = { status, body: '{"error":"invalid_client"}' };
    const error = await refusal(bearerToken(source()));
    expect(error).toMatchObject({
      kind,
      status,
      retryable: false,
      message: `PAM Core refused the OAuth 2.0 client credentials (HTTP ${status} from /iso/oauth2/token)`,
    });
  });

  it('answers that are not a token are bad responses, with no cause that could quote them', async () => {
    answer = { body: 'not json: client_secret=oauth2-SUPERSECRET-7f3a' };
    const notJson = await refusal(bearerToken(source()));
    expect(notJson).toMatchObject({
      kind: 'bad_response',
      retryable: false,
      message: "PAM Core's /iso/oauth2/token did not answer with a token",
    });
    expect(notJson.cause).toBeUndefined();
    answer = { status: 399, body: '{}' };
    expect((await refusal(bearerToken(source()))).message).toBe(
      "PAM Core's /iso/oauth2/token answered without access_token and expires_in",
    );
  });

  it.each([
    ['no access_token', { expires_in: 3600 }],
    ['an empty access_token', { access_token: '', expires_in: 3600 }],
    ['a numeric access_token', { access_token: 42, expires_in: 3600 }],
    ['no expires_in', { access_token: 'tok' }],
    ['expires_in 0', { access_token: 'tok', expires_in: 0 }],
    ['a negative expires_in', { access_token: 'tok', expires_in: -5 }],
    ['an expires_in that is not a number', { access_token: 'tok', expires_in: 'soon' }],
  ])('%s is not a token', async (_label, body) => {
    answer = { body: JSON.stringify(body) };
    expect(await refusal(bearerToken(source()))).toMatchObject({
      kind: 'bad_response',
      retryable: false,
      message: "PAM Core's /iso/oauth2/token answered without access_token and expires_in",
    });
  });

  it("reads PAM's error envelope when it wraps one in a 2xx", async () => {
    answer = {
      body: JSON.stringify({ response: { status: 401, message: 'Invalid client', error: true, error_code: 1 } }),
    };
    const error = await refusal(bearerToken(source()));
    expect(error.kind).toBe('rejected');
    expect(error.pamMessage).toBe('Invalid client');
  });

  it('takes a token answer of up to 64 KiB, and no more', async () => {
    const padded = (length: number) => {
      const bare = JSON.stringify({ access_token: 'tok-big', expires_in: 3600, pad: '' });
      return JSON.stringify({ access_token: 'tok-big', expires_in: 3600, pad: 'x'.repeat(length - bare.length) });
    };
    answer = { body: padded(64 * 1024) };
    expect(await bearerToken(source())).toBe('tok-big');
    answer = { body: padded(64 * 1024 + 1) };
    expect((await refusal(bearerToken(source()))).message).toBe(
      "PAM Core's /iso/oauth2/token did not answer with a token",
    );
  });

  it("gives up within the call's time, and at least within a millisecond", async () => {
    answer = { body: '', hold: true };
    const slow = await refusal(bearerToken(source(), { timeoutMs: 80.9 }));
    expect(slow).toMatchObject({ kind: 'timeout', retryable: true, message: 'PAM Core did not answer within 80 ms' });
    expect(slow.cause).toMatchObject({ name: 'TimeoutError', message: 'no answer within 80 ms' });
    const instant = await refusal(bearerToken(source(), { timeoutMs: 0.2 }));
    expect(instant.message).toBe('PAM Core did not answer within 1 ms');
  });
});
