import { PamApiError } from './pam-errors.js';

const TLS_ERROR = /^(CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH)/;

export function errorCode(error: unknown): string {
  const { code, name, cause } = (error ?? {}) as { code?: unknown; name?: unknown; cause?: { code?: unknown } };
  // DOMException (an aborted signal) has a numeric code; its name is what tells.
  for (const candidate of [code, cause?.code, name]) {
    if (typeof candidate === 'string') return candidate;
  }
  return 'unknown error';
}

/**
 * Turns what Node's HTTP client throws into the one error type, keeping URLs, headers and bodies out of its
 * message; Node's error (a code, an address) is its cause.
 */
export function networkFailure(error: unknown, timeoutMs: number): PamApiError {
  const code = errorCode(error);
  // Only the call's own time limit aborts it: Node's client says ABORT_ERR.
  if (code === 'TimeoutError' || code === 'AbortError' || code === 'ABORT_ERR') {
    return new PamApiError(
      { kind: 'timeout', retryable: true, message: `PAM Core did not answer within ${timeoutMs} ms` },
      { cause: error },
    );
  }
  if (TLS_ERROR.test(code)) {
    return new PamApiError(
      {
        kind: 'tls',
        retryable: false,
        message: `TLS verification of the PAM Core failed (${code}); if it uses a private CA, put that CA in the secret's ca_certificate`,
      },
      { cause: error },
    );
  }
  return new PamApiError(
    { kind: 'unreachable', retryable: true, message: `Could not reach the PAM Core (${code})` },
    { cause: error },
  );
}
