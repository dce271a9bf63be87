import pRetry, { AbortError } from 'p-retry';
import { logger } from '../core/logger.js';
import { type PamSettings, pamSettings } from '../core/settings.js';
import { type ElementBlock, JsonArrayStreamParser, JsonStreamError } from '../sessions/json-array-stream.js';
import { MalformedRecords } from '../sessions/malformed-records.js';
import type { RemoteSession } from '../sessions/remote-session.js';
import { decodeSessionBlock } from '../sessions/session-block.js';
import { parseSessionId } from '../sessions/session-id.js';
import { type PamResponse, readText, send } from './http-transport.js';
import { errorCode, networkFailure } from './network-failure.js';
import { createOAuth1Signer } from './oauth1.js';
import { bearerToken } from './oauth2-token.js';
import { PamApiError } from './pam-errors.js';
import { checkPamEnvelope, parsePamResponse } from './pam-response.js';
import { heldPamConnection, loadPamConnection, type PamConnection } from './pam-secret.js';
import { requestTarget } from './request-target.js';

export interface PamCallOptions {
  /** Epoch ms by which every attempt must be over (see deadlineFromRemainingTime). */
  deadline?: number;
}

/** One call to the PAM Core: its name (for logs), method, path from the connection, and time limit. */
export interface Operation {
  name: 'list' | 'drop' | 'lookup' | 'credential-list' | 'custody' | 'custody-release' | 'deactivate' | 'activate';
  method: 'GET' | 'DELETE' | 'PUT';
  path: (connection: PamConnection) => string;
  timeoutMs: number;
}

/** Below this, starting another attempt cannot end in an answer. */
const MIN_ATTEMPT_MS = 200;
const MAX_BACKOFF_MS = 5_000;

/** An answer that stopped after its headers: a timeout, or a body that broke off (never retried). */
function brokeOff(error: unknown, timeoutMs: number, response: PamResponse, what: string): PamApiError {
  // When the time ran out, Node's client reports the body as cut ("aborted"): it was the time.
  const failure = networkFailure(response.timedOut() ? new DOMException('', 'TimeoutError') : error, timeoutMs);
  if (failure.kind === 'timeout') return failure;
  const status = response.statusCode;
  return new PamApiError(
    {
      kind: 'bad_response',
      status,
      retryable: false,
      message: `${what} broke off before its end (${errorCode(error)})`,
    },
    { cause: error },
  );
}

/** What to do with PAM's answer once its status and headers are in. */
export type ResponseReader<T> = (response: PamResponse) => Promise<T>;

/** PAM's envelope is a few hundred bytes; a larger answer is not one, and is not read whole. */
const MAX_ENVELOPE_BYTES = 1024 * 1024;

/** Reads the (bounded) body and decides success from status and envelope. */
export const readEnvelope: ResponseReader<Record<string, unknown>> = async (response) => {
  const body = await readText(response.body, MAX_ENVELOPE_BYTES);
  if (body === undefined) {
    throw new PamApiError({
      kind: 'bad_response',
      status: response.statusCode,
      retryable: false,
      message: `PAM Core answered HTTP ${response.statusCode} with more than ${MAX_ENVELOPE_BYTES} bytes where its short response envelope was expected`,
    });
  }
  return parsePamResponse(response.statusCode, response.contentType, body);
};

/** The (cached) OAuth 2.0 bearer token. */
async function bearerAuthorization(
  connection: PamConnection,
  { clientId, clientSecret }: Extract<PamConnection['auth'], { kind: 'oauth2' }>,
  renewToken: boolean,
  timeoutMs: number,
): Promise<string> {
  // A token request that fails the way any call may (429, 5xx, network) is retried with the call, within its time.
  const token = await bearerToken(
    { baseUrl: connection.baseUrl, clientId, clientSecret, caCertificate: connection.caCertificate },
    { renew: renewToken, timeoutMs },
  );
  return `Bearer ${token}`;
}

async function sendOnce<T>(
  connection: PamConnection,
  operation: Operation,
  timeoutMs: number,
  read: ResponseReader<T>,
  renewToken = false,
): Promise<T> {
  const target = requestTarget(connection.baseUrl, operation.path(connection));
  // A fresh OAuth 1.0a signature for every attempt, made without a wait before the request.
  const authorization =
    connection.auth.kind === 'oauth1'
      ? createOAuth1Signer(connection.auth.credentials)({ method: operation.method, url: target })
      : await bearerAuthorization(connection, connection.auth, renewToken, timeoutMs);
  try {
    const response = await send(target, {
      method: operation.method,
      headers: { authorization, accept: 'application/json' },
      timeoutMs,
      caCertificate: connection.caCertificate,
    });
    try {
      return await read(response);
    } catch (error) {
      if (error instanceof PamApiError) throw error;
      // The answer began and broke off: PAM has likely acted already, so it is not sent again.
      throw brokeOff(error, timeoutMs, response, "PAM Core's answer");
    }
  } catch (error) {
    if (error instanceof PamApiError) throw error;
    throw networkFailure(error, timeoutMs);
  }
}

/** Sends one operation with bounded retries (exponential backoff, jitter), each attempt freshly signed. */
async function sendWithRetries<T>(
  connection: PamConnection,
  operation: Operation,
  deadline: number,
  read: ResponseReader<T>,
  { maxAttempts: attempts, retryBaseDelayMs: baseDelayMs }: PamSettings,
  renewToken = false,
): Promise<T> {
  let lastError: PamApiError | undefined;
  return pRetry(
    async (attemptNumber) => {
      // Whole milliseconds: timers refuse fractions, and a deadline may come from a fractional clock.
      const remaining = Math.floor(deadline - Date.now());
      if (remaining < MIN_ATTEMPT_MS) {
        throw new AbortError(
          lastError ??
            new PamApiError({
              kind: 'timeout',
              retryable: false,
              message: 'No time left before the Lambda timeout to call the PAM Core',
            }),
        );
      }
      return sendOnce(
        connection,
        operation,
        Math.min(operation.timeoutMs, remaining),
        read,
        renewToken && attemptNumber === 1,
      );
    },
    {
      retries: attempts - 1,
      factor: 2,
      minTimeout: baseDelayMs,
      maxTimeout: MAX_BACKOFF_MS,
      randomize: true,
      maxRetryTime: Math.max(0, deadline - Date.now()),
      shouldRetry: ({ error }) => error instanceof PamApiError && error.retryable,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (!(error instanceof PamApiError)) return;
        lastError = error;
        if (error.retryable && retriesLeft > 0) {
          logger.warn('PAM request failed, will retry', {
            operation: operation.name,
            attempt: attemptNumber,
            kind: error.kind,
            status: error.status,
          });
        }
      },
    },
  );
}

/** Calls PAM; on 401 re-reads the secret once (it may have been rotated), renews an OAuth 2.0 token, and tries again once. */
export async function callPam<T>(operation: Operation, options: PamCallOptions, read: ResponseReader<T>): Promise<T> {
  const settings = pamSettings();
  const deadline = options.deadline ?? Date.now() + operation.timeoutMs * settings.maxAttempts;
  const connection = heldPamConnection() ?? (await loadPamConnection());
  try {
    return await sendWithRetries(connection, operation, deadline, read, settings);
  } catch (error) {
    if (!(error instanceof PamApiError) || error.kind !== 'unauthorized') throw error;
    logger.warn('PAM Core refused the credentials; re-reading the secret in case it was rotated', {
      operation: operation.name,
    });
  }
  const refreshed = await loadPamConnection({ forceFetch: true });
  try {
    return await sendWithRetries(refreshed, operation, deadline, read, settings, true);
  } catch (error) {
    if (error instanceof PamApiError && error.kind === 'unauthorized') {
      throw new PamApiError(
        {
          kind: 'unauthorized',
          retryable: false,
          status: error.status,
          pamMessage: error.pamMessage,
          message: `PAM Core refused the OAuth credentials (HTTP ${error.status ?? 401}) even after re-reading the secret: check the A2A application's keys in ${settings.secretId}`,
        },
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * One request whose answer is PAM's short envelope: signed afresh for each attempt, retried within
 * bounds, and decided from status and envelope (the typed PamApiError otherwise). Returns the body.
 */
export function requestEnvelope(operation: Operation, options: PamCallOptions = {}): Promise<Record<string, unknown>> {
  return callPam(operation, options, readEnvelope);
}

/** Refuses a failed answer before its body is streamed; a successful one is handed over unread. */
const openStream: ResponseReader<PamResponse> = async (response) => {
  // Outside 2xx, reading the (small) body throws the typed error: PAM's or its gateway's.
  if (response.statusCode < 200 || response.statusCode >= 300) await readEnvelope(response);
  return response;
};

function listOperation(timeoutMs: number): Operation {
  return { name: 'list', method: 'GET', path: (connection) => connection.listPath, timeoutMs };
}

/**
 * `GET /api/session/remotesessions` (or the secret's list_path), read as it arrives and handed out
 * as raw blocks of records: the body is never held whole. A body that breaks off or is not PAM's
 * envelope ends in a PamApiError after the last good block.
 */
export async function* streamRemoteSessionBlocks(
  options: PamCallOptions & { timeoutMs?: number } = {},
): AsyncGenerator<ElementBlock> {
  const timeoutMs = options.timeoutMs ?? pamSettings().listTimeoutMs;
  const response = await callPam(listOperation(timeoutMs), options, openStream);
  const parser = new JsonArrayStreamParser('remote_sessions');
  try {
    for await (const chunk of response.body) {
      const block = parser.push(chunk as Buffer);
      if (block.ranges.length > 0) yield block;
    }
    checkPamEnvelope(response.statusCode, parser.end());
  } catch (error) {
    if (error instanceof PamApiError) throw error;
    if (error instanceof JsonStreamError) {
      throw new PamApiError(
        {
          kind: 'bad_response',
          status: response.statusCode,
          retryable: false,
          message: `PAM Core's session list is not valid JSON: ${error.message}`,
        },
        { cause: error },
      );
    }
    throw brokeOff(error, timeoutMs, response, "PAM Core's session list");
  } finally {
    // Also when the consumer stops early: release the connection instead of leaving the body unread.
    response.body.destroy();
  }
  if (!parser.foundArray) {
    throw new PamApiError({
      kind: 'bad_response',
      retryable: false,
      status: response.statusCode,
      message: 'PAM Core answered the session list without a remote_sessions array',
    });
  }
}

/**
 * Every remote session PAM shows this application, normalised, a block at a time as the list
 * arrives; records that cannot be read are counted in `malformed` and left out. A consumer that
 * has what it needs stops early and the rest of the list is never read.
 */
export async function* streamRemoteSessions(
  options: PamCallOptions & { timeoutMs?: number },
  malformed = new MalformedRecords(),
): AsyncGenerator<RemoteSession[]> {
  for await (const block of streamRemoteSessionBlocks(options)) {
    const batch = decodeSessionBlock(block);
    malformed.add(batch.malformed);
    if (batch.sessions.length > 0) yield batch.sessions;
  }
}

/** `DELETE /iso/session/drop/{session_id}` (or the secret's drop_path). The id is validated before anything is sent. */
export async function dropSession(sessionId: string, options: PamCallOptions = {}): Promise<void> {
  const id = parseSessionId(sessionId);
  await requestEnvelope(
    {
      name: 'drop',
      method: 'DELETE',
      path: (connection) => connection.dropPath.replaceAll('{session_id}', encodeURIComponent(id)),
      timeoutMs: pamSettings().dropTimeoutMs,
    },
    options,
  );
}
