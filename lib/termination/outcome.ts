import type { ResponderError } from '../core/errors.js';
import type { RemoteSession } from '../sessions/remote-session.js';

/**
 * Every kind of outcome; each is also the name of the count metric drop emits for it.
 * - terminated, already_ended, skipped_protected: what was done, or why nothing had to be.
 * - would_terminate, would_block: a dry run's terminated and blocked; nothing was sent, nobody is paged.
 * - blocked: over the per-request cap, not terminated; a human decides (alarmed, notified).
 * - rejected: the id names no session the PAM Core has (a mistyped id): the caller's mistake, nothing was sent.
 * - failed: the PAM Core or the list failed it; the invocation of an event fails and is retried (alarmed).
 */
export const OUTCOME_KINDS = [
  'terminated',
  'already_ended',
  'skipped_protected',
  'would_terminate',
  'would_block',
  'blocked',
  'rejected',
  'failed',
] as const;

export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

/** Where a target's facts came from: the active-session index, or the PAM Core's live list. */
export type ResolvedFrom = 'index' | 'live';

/** What the audit trail and the caller are told about the session an outcome is for. */
export interface SessionFacts {
  id: string | null;
  user: string | null;
  origin_ip: string | null;
  device: string | null;
  credential: string | null;
  protocol: string | null;
}

/** What happened to one target of a termination request. */
export interface Outcome {
  session_id: string;
  outcome: OutcomeKind;
  session: SessionFacts | null;
  message?: string;
  resolved_from: ResolvedFrom;
  /** How old the index was when the request was resolved; null without a usable index. */
  index_age_ms: number | null;
  /** From the triggering event's time (or the request's arrival) to this outcome: for `terminated`, PAM's answer. */
  event_age_ms: number;
  /**
   * For `terminated` only: whether PAM shows the session ended when looked up after the DELETE
   * (true), still active after every recheck (false), or could not tell (null).
   */
  confirmed?: boolean | null;
  /** Behind a `failed` outcome: what the caller is answered with (kept out of reports and audit events). */
  error?: ResponderError;
}

export function sessionFacts(session: RemoteSession): SessionFacts {
  const { id, user, origin_ip, device, credential, protocol } = session;
  return { id, user, origin_ip, device, credential, protocol };
}
