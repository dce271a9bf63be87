import pMap from 'p-map';
import { publishAuditEvents, type AuditEvent } from './audit-trail.js';
import { PamApiError, SessionNotFoundError } from './errors.js';
import { logger } from './logger.js';
import { countOutcomes } from './outcome-metrics.js';
import { dropSession, listRemoteSessions, type PamCallOptions } from './pam-client.js';
import type { RemoteSession } from './remote-session.js';
import type { ResponderSettings } from './responder-settings.js';
import { sessionMatches } from './session-match.js';
import type { TerminationRequest, Trigger } from './termination-request.js';

export type OutcomeKind = 'terminated' | 'already_ended' | 'skipped_protected' | 'would_terminate' | 'blocked' | 'failed';

export interface SessionFacts {
  id: string | null;
  user: string | null;
  origin_ip: string | null;
  device: string | null;
  credential: string | null;
  protocol: string | null;
}

export interface Outcome {
  session_id: string;
  outcome: OutcomeKind;
  session: SessionFacts | null;
  message?: string;
}

export interface TerminationReport {
  reason: string;
  requested_by: string | null;
  dry_run: boolean;
  trigger: Trigger;
  outcomes: Outcome[];
  summary: Partial<Record<OutcomeKind, number>>;
  audit: { published: number; failed: number };
  /** Why nothing was resolved, when a finding is deliberately not acted on. */
  ignored?: string;
}

export interface TerminationResult {
  report: TerminationReport;
  /** The error behind each `failed` outcome, by session id. */
  errors: Map<string, PamApiError | SessionNotFoundError>;
}

const AUDIT_DETAIL_TYPES: Record<OutcomeKind, string> = {
  terminated: 'PAM Session Terminated',
  already_ended: 'PAM Session Terminated',
  failed: 'PAM Session Termination Failed',
  skipped_protected: 'PAM Session Termination Skipped',
  would_terminate: 'PAM Session Termination Skipped',
  blocked: 'PAM Session Termination Blocked',
};

function facts(session: RemoteSession): SessionFacts {
  const { id, user, origin_ip, device, credential, protocol } = session;
  return { id, user, origin_ip, device, credential, protocol };
}

function protection(session: RemoteSession, settings: ResponderSettings): string | undefined {
  if (session.user !== null && settings.protectedUsers.has(session.user.trim().toLowerCase())) {
    return `user "${session.user}" is protected (PROTECTED_USERS)`;
  }
  if (session.credential !== null && settings.protectedCredentials.has(session.credential.trim().toLowerCase())) {
    return `credential "${session.credential}" is protected (PROTECTED_CREDENTIALS)`;
  }
  return undefined;
}

interface Resolution {
  decided: Outcome[];
  /** Active, unprotected sessions the request asks to terminate. */
  candidates: RemoteSession[];
  notFound: string[];
}

/** By id: that id. By match: ACTIVE sessions matching any criteria. One list serves both. */
function resolveTargets(request: TerminationRequest, sessions: RemoteSession[], settings: ResponderSettings): Resolution {
  const byId = new Map(sessions.map((session) => [session.session_id, session]));
  const seen = new Set<string>();
  const decided: Outcome[] = [];
  const candidates: RemoteSession[] = [];
  const notFound: string[] = [];

  const consider = (session: RemoteSession) => {
    if (seen.has(session.session_id)) return;
    seen.add(session.session_id);
    if (!session.active) {
      decided.push({ session_id: session.session_id, outcome: 'already_ended', session: facts(session), message: `ended at ${session.end}` });
      return;
    }
    const protectedBy = protection(session, settings);
    if (protectedBy) decided.push({ session_id: session.session_id, outcome: 'skipped_protected', session: facts(session), message: protectedBy });
    else candidates.push(session);
  };

  for (const id of request.sessionIds) {
    const session = byId.get(id);
    if (session) consider(session);
    else if (!seen.has(id)) {
      seen.add(id);
      notFound.push(id);
    }
  }
  for (const session of sessions) {
    if (session.active && request.criteria.some((criteria) => sessionMatches(session, criteria))) consider(session);
  }
  return { decided, candidates, notFound };
}

async function dropAll(candidates: RemoteSession[], concurrency: number, options: PamCallOptions) {
  const failures = new Map<string, PamApiError>();
  await pMap(
    candidates,
    async (session) => {
      try {
        await dropSession(session.session_id, options);
      } catch (error) {
        if (!(error instanceof PamApiError)) throw error;
        failures.set(session.session_id, error);
      }
    },
    { concurrency },
  );
  return failures;
}

/**
 * PAM answers the same 500 for a failed drop and for a session that has already ended, and a
 * timed-out drop may have happened: look the failed ones up once; those no longer active ended.
 */
async function settleAmbiguous(failures: Map<string, PamApiError>, options: PamCallOptions): Promise<Set<string>> {
  if (failures.size === 0) return new Set();
  try {
    const { sessions } = await listRemoteSessions(options);
    const stillActive = new Set(sessions.filter((session) => session.active).map((session) => session.session_id));
    return new Set([...failures.keys()].filter((id) => !stillActive.has(id)));
  } catch (error) {
    logger.warn('Could not re-check failed drops against the session list', { reason: error instanceof Error ? error.message : String(error) });
    return new Set();
  }
}

function auditEvent(outcome: Outcome, report: Omit<TerminationReport, 'outcomes' | 'summary' | 'audit'>): AuditEvent {
  return {
    detailType: AUDIT_DETAIL_TYPES[outcome.outcome],
    detail: {
      session_id: outcome.session_id,
      outcome: outcome.outcome,
      session: outcome.session,
      ...(outcome.message ? { message: outcome.message } : {}),
      reason: report.reason,
      requested_by: report.requested_by,
      dry_run: report.dry_run,
      trigger: report.trigger,
    },
  };
}

/**
 * Resolves a termination request to sessions, applies the guardrails (protected accounts, the
 * per-event cap, dry run), terminates with bounded concurrency, and reports one outcome per
 * target to the caller, the logs, the metrics and the audit trail.
 */
export async function respondToTermination(
  request: TerminationRequest,
  settings: ResponderSettings,
  options: PamCallOptions & { ignored?: string | undefined },
): Promise<TerminationResult> {
  const base = {
    reason: request.reason,
    requested_by: request.requestedBy ?? null,
    dry_run: request.dryRun || settings.dryRun,
    trigger: request.trigger,
    ...(options.ignored ? { ignored: options.ignored } : {}),
  };
  const errors: TerminationResult['errors'] = new Map();
  const outcomes: Outcome[] = [];

  if (!options.ignored && (request.sessionIds.length > 0 || request.criteria.length > 0)) {
    const { sessions } = await listRemoteSessions(options);
    const { decided, candidates, notFound } = resolveTargets(request, sessions, settings);
    outcomes.push(...decided);
    for (const id of notFound) {
      const message = `session ${id} is not in the PAM Core's session list; nothing was sent`;
      outcomes.push({ session_id: id, outcome: 'failed', session: null, message });
      errors.set(id, new SessionNotFoundError(message));
    }

    if (candidates.length > settings.maxSessionsPerEvent) {
      const message = `${candidates.length} sessions matched, more than MAX_SESSIONS_PER_EVENT (${settings.maxSessionsPerEvent}): none was terminated, a human decides`;
      outcomes.push(...candidates.map((session) => ({ session_id: session.session_id, outcome: 'blocked' as const, session: facts(session), message })));
    } else if (base.dry_run) {
      outcomes.push(...candidates.map((session) => ({ session_id: session.session_id, outcome: 'would_terminate' as const, session: facts(session) })));
    } else {
      const failures = await dropAll(candidates, settings.dropConcurrency, options);
      const ended = await settleAmbiguous(failures, options);
      for (const session of candidates) {
        const failure = failures.get(session.session_id);
        if (!failure) outcomes.push({ session_id: session.session_id, outcome: 'terminated', session: facts(session) });
        else if (ended.has(session.session_id)) {
          outcomes.push({ session_id: session.session_id, outcome: 'already_ended', session: facts(session), message: 'no longer active after an ambiguous answer to the drop' });
        } else {
          outcomes.push({ session_id: session.session_id, outcome: 'failed', session: facts(session), message: failure.message });
          errors.set(session.session_id, failure);
        }
      }
    }
  }

  for (const outcome of outcomes) {
    logger.info('Session outcome', { ...outcome, reason: base.reason, dry_run: base.dry_run, trigger: base.trigger });
  }
  countOutcomes(outcomes);
  const audit = await publishAuditEvents(outcomes.map((outcome) => auditEvent(outcome, base)));
  const summary: TerminationReport['summary'] = {};
  for (const { outcome } of outcomes) summary[outcome] = (summary[outcome] ?? 0) + 1;
  return { report: { ...base, outcomes, summary, audit }, errors };
}
