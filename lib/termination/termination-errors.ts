import { responderErrorClass } from '../core/errors.js';

/** The session id is not in the PAM Core's list; nothing was sent to terminate it. */
export class SessionNotFoundError extends responderErrorClass('SessionNotFoundError', 'session_not_found', 404) {}

/** The session belongs to a protected user or credential (PROTECTED_USERS, PROTECTED_CREDENTIALS). */
export class ProtectedSessionError extends responderErrorClass('ProtectedSessionError', 'protected_session', 409) {}

/** A drop that truly failed (PAM refused, timed out, unreachable) or an audit trail that could not be written. */
export class TerminationIncompleteError extends responderErrorClass(
  'TerminationIncompleteError',
  'termination_incomplete',
  502,
) {}

/** A confirmation names no request the cap blocked in the last 15 minutes. */
export class BlockedRequestNotFoundError extends responderErrorClass(
  'BlockedRequestNotFoundError',
  'blocked_request_not_found',
  404,
) {}

/** A blocked request can be confirmed once. */
export class AlreadyConfirmedError extends responderErrorClass('AlreadyConfirmedError', 'already_confirmed', 409) {}
