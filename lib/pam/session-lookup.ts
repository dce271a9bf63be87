import { ValidationError } from '../core/errors.js';
import { lookupSettings, pamSettings } from '../core/settings.js';
import { normaliseRemoteSession, type RemoteSession } from '../sessions/remote-session.js';
import { type PamCallOptions, requestEnvelope } from './pam-client.js';
import { PamApiError, type PamFailure } from './pam-errors.js';

/** PAM's error codes for `GET /api/session/remotesessions/{id}` (vendor docs, v3.32+). */
const SESSION_NOT_FOUND = 1002;
const UNEXPECTED_IDENTIFIER_TYPE = 1003;

/** Statuses a PAM (or its gateway) without the route answers: unknown path, method not allowed, not implemented. */
const ROUTE_REFUSED_STATUSES = new Set([404, 405, 501]);
/** Kong's own body when no route matches; it has no PAM envelope. */
const NO_ROUTE = /no route matched/i;

/** PAM's numeric `id` (not the 40-hex `session_id`): digits only, as PAM versions send it as 3 or "3". */
const NUMERIC_ID = /^[0-9]{1,15}$/;

/** Whether a session's `id` can be looked up one at a time. */
export function isNumericSessionId(id: string | null | undefined): id is string {
  return typeof id === 'string' && NUMERIC_ID.test(id);
}

/**
 * PAM cannot answer about one session by id: the caller reads the full list instead. `route_refused`:
 * PAM (or its gateway) has no lookup route (404/405/501, Kong's "no Route matched"); `id_refused`:
 * PAM refused the id itself (`1003: Unexpected identifier type`).
 */
export class LookupUnavailableError extends PamApiError {
  constructor(
    readonly reason: 'route_refused' | 'id_refused',
    failure: PamFailure,
    options?: ErrorOptions,
  ) {
    super(failure, options);
  }
}

function failureOf(error: PamApiError): PamFailure {
  const { kind, message, retryable, status, pamErrorCode, pamMessage } = error;
  return { kind, message, retryable, status, pamErrorCode, pamMessage };
}

/** PAM's answer to a lookup that did not find the session: undefined when it is "not found", else the error to throw. */
function classify(error: unknown, id: string): PamApiError | Error | undefined {
  if (!(error instanceof PamApiError)) return error as Error;
  if (error.pamErrorCode === SESSION_NOT_FOUND) return undefined;
  if (error.pamErrorCode === UNEXPECTED_IDENTIFIER_TYPE) {
    return new LookupUnavailableError(
      'id_refused',
      {
        ...failureOf(error),
        message: `PAM Core refused to look up session id ${id} (1003: Unexpected identifier type): ${error.message}`,
      },
      { cause: error },
    );
  }
  const noRoute = error.kind === 'bad_response' && NO_ROUTE.test(error.pamMessage ?? '');
  const refusedStatus =
    (error.kind === 'bad_response' || error.kind === 'rejected') && ROUTE_REFUSED_STATUSES.has(error.status ?? 0);
  if (noRoute || refusedStatus) {
    return new LookupUnavailableError(
      'route_refused',
      {
        ...failureOf(error),
        retryable: false,
        message: `PAM Core does not serve the one-session lookup (check lookup_path in the secret): ${error.message}`,
      },
      { cause: error },
    );
  }
  return error;
}

function badLookup(id: string, why: string): PamApiError {
  return new PamApiError({
    kind: 'bad_response',
    status: 200,
    retryable: false,
    message: `PAM Core's answer to the lookup of session id ${id} ${why}`,
  });
}

/**
 * `GET /api/session/remotesessions/{id}` (or the secret's lookup_path): one session by its numeric
 * id, normalised as the list's records are; undefined when PAM says `1002: Session not found`.
 * Throws LookupUnavailableError when PAM cannot answer lookups (the caller reads the list), and
 * PamApiError for every other failure. The id is validated before anything is sent.
 */
export async function lookupSession(id: string, options: PamCallOptions = {}): Promise<RemoteSession | undefined> {
  if (!isNumericSessionId(id)) throw new ValidationError(`session id ${JSON.stringify(id)} is not a numeric id`);
  let body: Record<string, unknown>;
  try {
    body = await requestEnvelope(
      {
        name: 'lookup',
        method: 'GET',
        path: (connection) => connection.lookupPath.replaceAll('{id}', id),
        timeoutMs: pamSettings().lookupTimeoutMs,
      },
      options,
    );
  } catch (error) {
    const failure = classify(error, id);
    if (failure === undefined) return undefined;
    throw failure;
  }
  if (!('remote_session' in body)) throw badLookup(id, 'has no remote_session');
  const result = normaliseRemoteSession(body.remote_session);
  if (!result.ok) throw badLookup(id, `is not a session record (${result.reason})`);
  // Another session than the one asked for would be acted on in its place.
  if (result.session.id !== id) throw badLookup(id, `is the session with id ${result.session.id}`);
  return result.session;
}

/**
 * Several sessions by numeric id, LOOKUP_CONCURRENCY at a time: each id's session, or undefined
 * when PAM says it has none. The first failure stops new lookups and is thrown once those in
 * flight are over (LookupUnavailableError when PAM cannot answer lookups).
 */
export async function lookupSessions(
  ids: readonly string[],
  options: PamCallOptions = {},
): Promise<Map<string, RemoteSession | undefined>> {
  const found = new Map<string, RemoteSession | undefined>();
  const queue = [...new Set(ids)];
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined && !failure; id = queue.shift()) {
      try {
        found.set(id, await lookupSession(id, options));
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(lookupSettings().concurrency, queue.length) }, worker));
  if (failure) throw failure.error;
  return found;
}
