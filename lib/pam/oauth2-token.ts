import { type PamResponse, readText, send } from './http-transport.js';
import { networkFailure } from './network-failure.js';
import { PamApiError } from './pam-errors.js';
import { parsePamResponse } from './pam-response.js';
import { requestTarget } from './request-target.js';

const TOKEN_PATH = '/iso/oauth2/token';
const TOKEN_TIMEOUT_MS = 10_000;
/** A token answer is a few hundred bytes; more is not one. */
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
/** Renew before expiry: a tenth of the lifetime, at most a minute. */
const RENEW_MARGIN = (lifetimeMs: number) => Math.min(60_000, lifetimeMs / 10);

interface CachedToken {
  value: string;
  renewAt: number;
}

export interface TokenSource {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  caCertificate: string | undefined;
}

const tokens = new Map<string, CachedToken>();
const inFlight = new Map<string, Promise<string>>();

const cacheKey = (source: TokenSource) => `${source.baseUrl}\n${source.clientId}`;

/** Statuses after which another token request may well succeed: the endpoint is busy or its gateway is. */
const TRANSIENT = new Set([429, 502, 503, 504]);

async function requestToken(source: TokenSource, timeoutMs: number): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: source.clientId,
    client_secret: source.clientSecret,
  });
  const limit = Math.max(1, Math.min(TOKEN_TIMEOUT_MS, Math.floor(timeoutMs)));
  let response: PamResponse;
  let text: string;
  try {
    response = await send(requestTarget(source.baseUrl, TOKEN_PATH), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      timeoutMs: limit,
      caCertificate: source.caCertificate,
    });
    text = (await readText(response.body, MAX_TOKEN_RESPONSE_BYTES)) ?? '';
  } catch (error) {
    throw networkFailure(error, limit);
  }
  // Never quote the body back: a misbehaving server could echo the client secret.
  if (TRANSIENT.has(response.statusCode)) {
    throw new PamApiError({
      kind: 'rejected',
      status: response.statusCode,
      retryable: true,
      message: `PAM Core's ${TOKEN_PATH} answered HTTP ${response.statusCode}; no token could be had`,
    });
  }
  if (response.statusCode >= 400) {
    throw new PamApiError({
      kind: response.statusCode === 401 || response.statusCode === 400 ? 'unauthorized' : 'rejected',
      status: response.statusCode,
      retryable: false,
      message: `PAM Core refused the OAuth 2.0 client credentials (HTTP ${response.statusCode} from ${TOKEN_PATH})`,
    });
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // No cause: the parser's message quotes the body, which may echo the client secret.
    throw new PamApiError({
      kind: 'bad_response',
      retryable: false,
      message: `PAM Core's ${TOKEN_PATH} did not answer with a token`,
    });
  }
  const token = body.access_token;
  const lifetime = Number(body.expires_in);
  if (typeof token !== 'string' || token === '' || !Number.isFinite(lifetime) || lifetime <= 0) {
    // Some versions wrap errors in PAM's envelope even with a 2xx.
    if ('response' in body) parsePamResponse(200, 'application/json', JSON.stringify(body));
    throw new PamApiError({
      kind: 'bad_response',
      retryable: false,
      message: `PAM Core's ${TOKEN_PATH} answered without access_token and expires_in`,
    });
  }
  const lifetimeMs = lifetime * 1000;
  tokens.set(cacheKey(source), { value: token, renewAt: Date.now() + lifetimeMs - RENEW_MARGIN(lifetimeMs) });
  return token;
}

/**
 * A bearer token for the PAM Core, cached until shortly before `expires_in` runs out; concurrent
 * callers share one token request. `renew` drops the cached one (PAM answered 401).
 */
export async function bearerToken(
  source: TokenSource,
  options: { renew?: boolean; timeoutMs?: number } = {},
): Promise<string> {
  const key = cacheKey(source);
  if (options.renew) tokens.delete(key);
  const cached = tokens.get(key);
  if (cached && Date.now() < cached.renewAt) return cached.value;
  let pending = inFlight.get(key);
  if (!pending) {
    pending = requestToken(source, options.timeoutMs ?? TOKEN_TIMEOUT_MS).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}
