import { ResponderError, responderErrorClass } from '../core/errors.js';

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

  constructor(failure: PamFailure, options?: ErrorOptions) {
    super(failure.message, options);
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

/** Secrets Manager could not be read for a reason that may pass (throttling, network). */
export class SecretsUnavailableError extends responderErrorClass(
  'SecretsUnavailableError',
  'secrets_unavailable',
  503,
) {}
