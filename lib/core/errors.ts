/**
 * Every failure the handlers know how to answer carries a stable code and an HTTP status. A wrap
 * keeps what it wraps as `cause`; the handlers log and respond with the code and message only.
 */
export abstract class ResponderError extends Error {
  abstract readonly code: string;
  abstract readonly httpStatus: number;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A ResponderError class of a fixed name, code and HTTP status: how each layer declares its errors. */
export function responderErrorClass(name: string, code: string, httpStatus: number) {
  return class extends ResponderError {
    override readonly name = name;
    readonly code = code;
    readonly httpStatus = httpStatus;
  };
}

/** The caller sent something we refuse; nothing was sent to PAM on its behalf. */
export class ValidationError extends responderErrorClass('ValidationError', 'invalid_request', 400) {}

/** The deployment is wrong (secret missing, malformed, not readable): an operator must act. */
export class ConfigurationError extends responderErrorClass('ConfigurationError', 'configuration_error', 500) {}

/** An error's message alone (a thrown non-Error as text): never its stack, cause or other fields. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
