import type { Fault } from '../../infra/pam-simulator/server.js';

/** The four ways the product reads or changes the PAM Core, each tried against every fault. */
export type FaultPath = 'list' | 'drop' | 'match' | 'export';

export const ALL_PATHS: FaultPath[] = ['list', 'drop', 'match', 'export'];

export const PATHS: Record<FaultPath, string> = {
  list: '`GET /sessions` (list)',
  drop: '`DELETE /sessions/{id}` (drop)',
  match: 'termination request by match on EventBridge (drop)',
  export: 'inventory export (export)',
};

export interface PamFaultRow {
  id: string;
  /** What the PAM Core (or what stands before it) does. */
  fault: string;
  /** The fault on the endpoint a path calls: the list for list and export, the drop for the others. */
  inject: (endpoint: 'list' | 'drop') => Fault;
  /**
   * Requests made to the faulty endpoint: PAM_MAX_ATTEMPTS (3) when the failure may pass, else 1.
   * The export waits as long as its Lambda may run (not PAM_LIST_TIMEOUT_MS); the test gives it 1.2 s.
   */
  attempts: { list: number; drop: number; export: number };
  code: string;
  httpStatus: number;
  /**
   * What the operator reads on each path, exactly (a pattern where it holds a measured time): the HTTP
   * error's message (list, drop), the failed outcome's message in the audit event (match), the thrown
   * error's message (export). docs/failure-modes.md shows these.
   */
  reads: Record<FaultPath, string | RegExp>;
}

/**
 * PAM acted on the DELETE, but the client could not tell: the session is ended in PAM, and the product
 * must report it ended (never `failed`, which would make an event retry and an operator cut it again).
 */
export interface PamActedRow {
  id: string;
  fault: string;
  inject: () => Fault;
  /** DELETEs sent: each attempt with a fresh nonce. */
  attempts: number;
  /** The target's outcome on the drop and the match paths. */
  outcome: 'terminated' | 'already_ended';
  /** The outcome's message, which the operator reads in the response, the audit event and the log. */
  reads: string;
}

const PAM_500 = JSON.stringify({
  response: { status: 500, message: 'An error occurred while droping session', error: true, error_code: 1 },
});
const DROP_OK = JSON.stringify({
  response: { status: 200, message: 'Sessão interrompida com sucesso', error: false, error_code: 0 },
});
const status = (code: number, body: string | Uint8Array, contentType = 'application/json'): Fault => ({
  kind: 'status',
  status: code,
  body,
  contentType,
});

export const PAM_FAULTS: PamFaultRow[] = [
  {
    id: 'timeout',
    fault: 'answers after the time allowed (PAM_*_TIMEOUT_MS)',
    // PAM does not get to it: a client that gave up is served nothing and nothing is dropped (server.ts).
    inject: () => ({ kind: 'delay', ms: 1_500 }),
    attempts: { list: 3, drop: 3, export: 1 },
    code: 'pam_timeout',
    httpStatus: 504,
    reads: {
      list: 'PAM Core did not answer within 250 ms; the live list is too slow for this API: GET /sessions?active=true answers from the active-session index and GET /sessions?source=snapshot from the newest inventory export',
      drop: 'PAM Core did not answer within 250 ms',
      match: 'PAM Core did not answer within 250 ms',
      export: /^PAM Core did not answer within \d+ ms$/,
    },
  },
  {
    id: 'reset',
    fault: 'resets the connection before answering',
    inject: () => ({ kind: 'reset' }),
    attempts: { list: 3, drop: 3, export: 3 },
    code: 'pam_unreachable',
    httpStatus: 502,
    reads: {
      list: 'Could not reach the PAM Core (ECONNRESET)',
      drop: 'Could not reach the PAM Core (ECONNRESET)',
      match: 'Could not reach the PAM Core (ECONNRESET)',
      export: 'Could not reach the PAM Core (ECONNRESET)',
    },
  },
  {
    id: 'cut-mid-body',
    fault: 'cuts the connection in the middle of the body',
    inject: (endpoint) => ({
      kind: 'truncate',
      afterBytes: endpoint === 'list' ? 900 : 30,
      ...(endpoint === 'drop' ? { body: DROP_OK } : {}),
    }),
    attempts: { list: 1, drop: 1, export: 1 },
    code: 'pam_bad_response',
    httpStatus: 502,
    reads: {
      list: "PAM Core's session list broke off before its end (ECONNRESET)",
      drop: "PAM Core's answer broke off before its end (ECONNRESET)",
      match: "PAM Core's answer broke off before its end (ECONNRESET)",
      export: "PAM Core's session list broke off before its end (ECONNRESET)",
    },
  },
  {
    id: '429',
    fault: 'rate-limits: HTTP 429 from the gateway',
    inject: () => status(429, '{"message":"API rate limit exceeded"}'),
    attempts: { list: 3, drop: 3, export: 3 },
    code: 'pam_bad_response',
    httpStatus: 502,
    reads: {
      list: "PAM Core's gateway answered HTTP 429 without PAM's response envelope: API rate limit exceeded",
      drop: "PAM Core's gateway answered HTTP 429 without PAM's response envelope: API rate limit exceeded",
      match: "PAM Core's gateway answered HTTP 429 without PAM's response envelope: API rate limit exceeded",
      export: "PAM Core's gateway answered HTTP 429 without PAM's response envelope: API rate limit exceeded",
    },
  },
  {
    id: '500',
    fault: "HTTP 500 with PAM's error envelope (a failed drop, or an unknown session)",
    inject: () => status(500, PAM_500),
    attempts: { list: 1, drop: 1, export: 1 },
    code: 'pam_rejected',
    httpStatus: 502,
    reads: {
      list: 'PAM Core answered HTTP 500 (error_code 1): An error occurred while droping session',
      drop: 'PAM Core answered HTTP 500 (error_code 1): An error occurred while droping session',
      match: 'PAM Core answered HTTP 500 (error_code 1): An error occurred while droping session',
      export: 'PAM Core answered HTTP 500 (error_code 1): An error occurred while droping session',
    },
  },
  ...[502, 503, 504].map((code) => ({
    id: String(code),
    fault: `HTTP ${code} from a proxy, as an HTML page`,
    inject: () => status(code, `<html><head><title>${code}</title></head><body>upstream</body></html>`, 'text/html'),
    attempts: { list: 3, drop: 3, export: 3 },
    code: 'pam_bad_response',
    httpStatus: 502,
    reads: Object.fromEntries(
      ALL_PATHS.map((path) => [path, `PAM Core answered HTTP ${code} with an HTML page instead of JSON`]),
    ) as PamFaultRow['reads'],
  })),
  {
    id: 'html-200',
    fault: 'HTTP 200 with an HTML page (a login or maintenance page)',
    inject: () => status(200, '<!DOCTYPE html><html><body>Maintenance</body></html>', 'text/html'),
    attempts: { list: 1, drop: 1, export: 1 },
    code: 'pam_bad_response',
    httpStatus: 502,
    reads: {
      list: "PAM Core's session list is not valid JSON: the body is not a JSON object",
      drop: 'PAM Core answered HTTP 200 with an HTML page instead of JSON',
      match: 'PAM Core answered HTTP 200 with an HTML page instead of JSON',
      export: "PAM Core's session list is not valid JSON: the body is not a JSON object",
    },
  },
  {
    id: 'empty',
    fault: 'HTTP 200 with an empty body',
    inject: () => status(200, ''),
    attempts: { list: 1, drop: 1, export: 1 },
    code: 'pam_bad_response',
    httpStatus: 502,
    reads: {
      list: "PAM Core's session list is not valid JSON: the body ended before its JSON was complete (truncated)",
      drop: 'PAM Core answered HTTP 200 with an empty body',
      match: 'PAM Core answered HTTP 200 with an empty body',
      export: "PAM Core's session list is not valid JSON: the body ended before its JSON was complete (truncated)",
    },
  },
  {
    id: 'truncated-json',
    fault: 'HTTP 200 with truncated JSON, the connection closed cleanly',
    inject: () =>
      status(200, '{"code":200,"response":{"status":200,"error":false},"remote_sessions":[{"session_id":"a1"'),
    attempts: { list: 1, drop: 1, export: 1 },
    code: 'pam_bad_response',
    httpStatus: 502,
    reads: {
      list: "PAM Core's session list is not valid JSON: the body ended before its JSON was complete (truncated)",
      drop: 'PAM Core answered HTTP 200 with a body that is not valid JSON (89 bytes, possibly truncated)',
      match: 'PAM Core answered HTTP 200 with a body that is not valid JSON (89 bytes, possibly truncated)',
      export: "PAM Core's session list is not valid JSON: the body ended before its JSON was complete (truncated)",
    },
  },
  {
    id: 'body-50mb',
    fault: 'HTTP 200 with a 50 MB body that is not the answer',
    // Bytes, not a string: encoding 50 MB on every request delayed the answer past the tests' 250 ms timeout on a busy machine.
    inject: () => status(200, Buffer.alloc(50 * 1024 * 1024, 'x'), 'text/plain'),
    attempts: { list: 1, drop: 1, export: 1 },
    code: 'pam_bad_response',
    httpStatus: 502,
    reads: {
      list: "PAM Core's session list is not valid JSON: the body is not a JSON object",
      drop: 'PAM Core answered HTTP 200 with more than 1048576 bytes where its short response envelope was expected',
      match: 'PAM Core answered HTTP 200 with more than 1048576 bytes where its short response envelope was expected',
      export: "PAM Core's session list is not valid JSON: the body is not a JSON object",
    },
  },
  {
    id: 'slow-drip',
    fault: 'sends its answer a few bytes at a time, slower than allowed',
    inject: (endpoint) => ({
      kind: 'drip',
      bytesPerWrite: 16,
      pauseMs: 100,
      ...(endpoint === 'drop' ? { body: DROP_OK } : {}),
    }),
    attempts: { list: 1, drop: 3, export: 1 },
    code: 'pam_timeout',
    httpStatus: 504,
    reads: {
      list: 'PAM Core did not answer within 250 ms; the live list is too slow for this API: GET /sessions?active=true answers from the active-session index and GET /sessions?source=snapshot from the newest inventory export',
      drop: 'PAM Core did not answer within 250 ms',
      match: 'PAM Core did not answer within 250 ms',
      export: /^PAM Core did not answer within \d+ ms$/,
    },
  },
];

/** What every path does with any of these faults, besides the row's code and status. */
export const COMMON_BEHAVIOUR: Record<FaultPath, string> = {
  list: 'answers the error JSON; nothing is dropped',
  drop: 'answers the error JSON; after a failed drop the list is read once more to tell an ended session (then 200 `already_ended`) from a real failure; no other session is touched',
  match:
    'the target gets a `failed` outcome and a `PAM Session Termination Failed` audit event; the function then throws (Lambda retries, then DropFailuresQueue); no other session is touched',
  export:
    "the export fails with the row's error, the multipart upload is aborted, no object is written, no summary event is published",
};

export const PAM_ACTED: PamActedRow[] = [
  {
    id: 'ended-then-cut',
    fault: 'ends the session, then its response breaks off',
    inject: () => ({ kind: 'truncate', afterBytes: 30, body: DROP_OK, endSession: true }),
    attempts: 1,
    outcome: 'already_ended',
    reads: 'no longer active after an ambiguous answer to the drop',
  },
  {
    id: 'late-response',
    fault: 'ends the session, but responds only after the client gave up (PAM_DROP_TIMEOUT_MS)',
    inject: () => ({ kind: 'delay', ms: 1_500, actsFirst: true }),
    attempts: 3,
    outcome: 'already_ended',
    reads: 'no longer active after an ambiguous answer to the drop',
  },
];
