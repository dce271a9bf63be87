import type { ResponderError } from '../core/errors.js';

/** Every kind of containment outcome; audit events, metrics and responses use these words. */
export const CONTAINMENT_OUTCOME_KINDS = [
  'rotated',
  'quarantined',
  'already_quarantined',
  'reactivated',
  'would_rotate',
  'would_deactivate',
  'skipped_protected',
  'not_contained',
  'blocked',
  'failed',
] as const;

export type ContainmentOutcomeKind = (typeof CONTAINMENT_OUTCOME_KINDS)[number];

/** What was asked of one credential: rotate or deactivate after a termination; reactivate or quarantine by hand. */
export type ContainmentAction = 'rotate' | 'deactivate' | 'reactivate' | 'quarantine';

/** The credential an outcome is for, as the session named it and as PAM's credential list holds it. */
export interface CredentialFacts {
  /** PAM's numeric id; null when no single credential matched. */
  id: string | null;
  username: string | null;
  /** The session's device (host), or PAM's hostname/ip for a credential named by id. */
  device: string | null;
}

/** What happened to one credential for one action. Never holds a password: none is ever kept. */
export interface ContainmentOutcome {
  action: ContainmentAction;
  outcome: ContainmentOutcomeKind;
  credential: CredentialFacts;
  /** The terminated sessions that used the credential. */
  session_ids: string[];
  message?: string;
  /** When the scheduled reactivation runs (ISO 8601); null when only a human reactivates it. */
  reactivate_at?: string | null;
  /** From the request's arrival (or the triggering event's time) to PAM's answer for this action. */
  contained_age_ms: number;
  /** Behind a `failed` outcome; kept out of responses and audit events. */
  error?: ResponderError;
}

export interface ContainmentReport {
  actions: ContainmentAction[];
  outcomes: ContainmentOutcome[];
  summary: Partial<Record<ContainmentOutcomeKind, number>>;
  audit: { published: number; failed: number };
}
