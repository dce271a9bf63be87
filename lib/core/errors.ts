/** Every failure the handlers know how to answer carries a stable code and an HTTP status. */
export abstract class ResponderError extends Error {
  abstract readonly code: string;
  abstract readonly httpStatus: number;
}

/** The caller sent something we refuse; nothing was sent to PAM on its behalf. */
export class ValidationError extends ResponderError {
  override readonly name = 'ValidationError';
  readonly code = 'invalid_request';
  readonly httpStatus = 400;
}

/** The deployment is wrong (secret missing, malformed, not readable): an operator must act. */
export class ConfigurationError extends ResponderError {
  override readonly name = 'ConfigurationError';
  readonly code = 'configuration_error';
  readonly httpStatus = 500;
}

/** Secrets Manager could not be read for a reason that may pass (throttling, network). */
export class SecretsUnavailableError extends ResponderError {
  override readonly name = 'SecretsUnavailableError';
  readonly code = 'secrets_unavailable';
  readonly httpStatus = 503;
}

export type PamFailureKind =
  | 'rejected' // PAM answered with an error envelope or an error status
  | 'unauthorized' // PAM refused the OAuth credentials (HTTP 401)
  | 'timeout' // no complete answer within the time allowed
  | 'unreachable' // connection refused, reset, DNS failure
  | 'tls' // the server certificate did not verify
  | 'bad_response'; // an answer that is not PAM's envelope (gateway page, HTML, empty, truncated)

const pamHttpStatus: Record<PamFailureKind, number> = {
  rejected: 502,
  unauthorized: 502,
  timeout: 504,
  unreachable: 502,
  tls: 502,
  bad_response: 502,
};

export interface PamFailure {
  kind: PamFailureKind;
  message: string;
  retryable: boolean;
  status?: number | undefined;
  pamErrorCode?: number | undefined;
  pamMessage?: string | undefined;
}

/** One typed error for every way a call to the PAM Core can fail. */
export class PamApiError extends ResponderError {
  override readonly name = 'PamApiError';
  readonly kind: PamFailureKind;
  readonly retryable: boolean;
  /** HTTP status PAM (or its gateway) answered, when it answered at all. */
  readonly status: number | undefined;
  readonly pamErrorCode: number | undefined;
  readonly pamMessage: string | undefined;

  constructor(failure: PamFailure) {
    super(failure.message);
    this.kind = failure.kind;
    this.retryable = failure.retryable;
    this.status = failure.status;
    this.pamErrorCode = failure.pamErrorCode;
    this.pamMessage = failure.pamMessage;
  }

  get code(): string {
    return `pam_${this.kind}`;
  }

  get httpStatus(): number {
    return pamHttpStatus[this.kind];
  }
}

/** The session id is not in the PAM Core's list; nothing was sent to terminate it. */
export class SessionNotFoundError extends ResponderError {
  override readonly name = 'SessionNotFoundError';
  readonly code = 'session_not_found';
  readonly httpStatus = 404;
}

/** The session belongs to a protected user or credential (PROTECTED_USERS, PROTECTED_CREDENTIALS). */
export class ProtectedSessionError extends ResponderError {
  override readonly name = 'ProtectedSessionError';
  readonly code = 'protected_session';
  readonly httpStatus = 409;
}

/** No inventory export exists yet to answer from. */
export class SnapshotNotFoundError extends ResponderError {
  override readonly name = 'SnapshotNotFoundError';
  readonly code = 'snapshot_not_found';
  readonly httpStatus = 404;
}

/** The answer would exceed what API Gateway and Lambda can return (6 MB). */
export class ResponseTooLargeError extends ResponderError {
  override readonly name = 'ResponseTooLargeError';
  readonly code = 'response_too_large';
  readonly httpStatus = 413;
}

/** S3 failed for a reason that may pass (throttling, a network error, a 5xx). */
export class StorageUnavailableError extends ResponderError {
  override readonly name = 'StorageUnavailableError';
  readonly code = 'storage_unavailable';
  readonly httpStatus = 503;
}

/** A drop that truly failed (PAM refused, timed out, unreachable) or an audit trail that could not be written. */
export class TerminationIncompleteError extends ResponderError {
  override readonly name = 'TerminationIncompleteError';
  readonly code = 'termination_incomplete';
  readonly httpStatus = 502;
}

/** A confirmation names no request the cap blocked in the last 15 minutes. */
export class BlockedRequestNotFoundError extends ResponderError {
  override readonly name = 'BlockedRequestNotFoundError';
  readonly code = 'blocked_request_not_found';
  readonly httpStatus = 404;
}

/** A blocked request can be confirmed once. */
export class AlreadyConfirmedError extends ResponderError {
  override readonly name = 'AlreadyConfirmedError';
  readonly code = 'already_confirmed';
  readonly httpStatus = 409;
}
/** PAM does not know the credential (its error 1007); nothing was changed. */
export class CredentialNotFoundError extends ResponderError {
  override readonly name = 'CredentialNotFoundError';
  readonly code = 'credential_not_found';
  readonly httpStatus = 404;
}
