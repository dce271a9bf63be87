import { type AuditEvent, publishAuditEvents } from '../aws/audit-trail.js';
import { logger } from '../core/logger.js';
import { notifyBlocked } from './blocked-notice.js';
import type { Outcome, OutcomeKind } from './outcome.js';
import { SessionNotFoundError } from './termination-errors.js';
import { type TerminationRequest, type Trigger, triggerKind } from './termination-request.js';

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
  /** Set when the request could not be carried out in full: what the outcomes do not cover, and why. */
  incomplete?: { code: string; message: string };
}

export type ReportContext = Pick<TerminationReport, 'reason' | 'requested_by' | 'dry_run' | 'trigger'> & {
  /** An analyst confirmed, over the HTTP API, a request the cap had blocked. */
  confirmed_over_cap?: true;
};

const AUDIT_DETAIL_TYPES: Record<OutcomeKind, string> = {
  terminated: 'PAM Session Terminated',
  already_ended: 'PAM Session Terminated',
  failed: 'PAM Session Termination Failed',
  rejected: 'PAM Session Termination Rejected',
  skipped_protected: 'PAM Session Termination Skipped',
  would_terminate: 'PAM Session Termination Skipped',
  would_block: 'PAM Session Termination Skipped',
  blocked: 'PAM Session Termination Blocked',
};
/** A request not acted on at all (a finding below the threshold, an event older than MAX_EVENT_AGE_MINUTES). */
const IGNORED_DETAIL_TYPE = 'PAM Session Termination Ignored';

/** Outcomes that are not actions are audited together, one event per request (split only to fit PutEvents). */
const AGGREGATED = new Set<OutcomeKind>(['blocked', 'would_terminate', 'would_block']);
/** A request logs one summary line and at most this many outcome lines; the audit trail has every outcome. */
export const MAX_OUTCOME_LOG_LINES = 100;
/** Which outcomes get the log lines first when there are more than MAX_OUTCOME_LOG_LINES. */
const LOG_PRIORITY: OutcomeKind[] = [
  'failed',
  'terminated',
  'rejected',
  'skipped_protected',
  'already_ended',
  'blocked',
  'would_terminate',
  'would_block',
];
/** PutEvents takes at most 256 KB per entry; the sessions of one aggregated event stay well under it. */
const AGGREGATE_BYTES = 200 * 1024;

function auditEvent(outcome: Outcome, context: ReportContext): AuditEvent {
  return {
    detailType: AUDIT_DETAIL_TYPES[outcome.outcome],
    detail: {
      session_id: outcome.session_id,
      outcome: outcome.outcome,
      session: outcome.session,
      ...(outcome.message ? { message: outcome.message } : {}),
      resolved_from: outcome.resolved_from,
      index_age_ms: outcome.index_age_ms,
      event_age_ms: outcome.event_age_ms,
      ...(outcome.confirmed !== undefined ? { confirmed: outcome.confirmed } : {}),
      ...context,
    },
  };
}

/** One event for every `kind` outcome of the request, listing the sessions (in parts, if they do not fit one). */
function aggregatedEvents(kind: OutcomeKind, outcomes: Outcome[], context: ReportContext): AuditEvent[] {
  const listed = outcomes.map(({ session_id, session, message, resolved_from, index_age_ms }) => ({
    session_id,
    session,
    ...(message ? { message } : {}),
    resolved_from,
    index_age_ms,
  }));
  const parts: Array<typeof listed> = [[]];
  let bytes = 0;
  for (const entry of listed) {
    const size = Buffer.byteLength(JSON.stringify(entry));
    if (bytes + size > AGGREGATE_BYTES && (parts.at(-1)?.length ?? 0) > 0) {
      parts.push([]);
      bytes = 0;
    }
    parts.at(-1)?.push(entry);
    bytes += size;
  }
  return parts.map((sessions, index) => ({
    detailType: AUDIT_DETAIL_TYPES[kind],
    detail: {
      outcome: kind,
      count: outcomes.length,
      sessions,
      ...(parts.length > 1 ? { part: { number: index + 1, of: parts.length } } : {}),
      ...context,
    },
  }));
}

function auditEvents(outcomes: Outcome[], context: ReportContext, ignored: string | undefined): AuditEvent[] {
  if (ignored !== undefined) return [{ detailType: IGNORED_DETAIL_TYPE, detail: { ignored, ...context } }];
  const events = outcomes.filter((o) => !AGGREGATED.has(o.outcome)).map((outcome) => auditEvent(outcome, context));
  for (const kind of AGGREGATED) {
    const ofKind = outcomes.filter((outcome) => outcome.outcome === kind);
    if (ofKind.length > 0) events.push(...aggregatedEvents(kind, ofKind, context));
  }
  return events;
}

/**
 * The outcome kinds as reported: in a dry run, `blocked` is `would_block` (nobody is paged for a
 * preview); an id the PAM Core does not have is `rejected`, the caller's mistake, not a failure.
 */
function reportedKinds(outcomes: Outcome[], dryRun: boolean): Outcome[] {
  return outcomes.map((outcome) => {
    if (outcome.outcome === 'blocked' && dryRun) return { ...outcome, outcome: 'would_block' };
    if (outcome.outcome === 'failed' && outcome.error instanceof SessionNotFoundError)
      return { ...outcome, outcome: 'rejected' };
    return outcome;
  });
}

/** At most MAX_OUTCOME_LOG_LINES outcome lines, the most telling first, then one summary line. */
function logOutcomes(
  outcomes: Outcome[],
  context: ReportContext & { ignored?: string },
  summary: TerminationReport['summary'],
): void {
  const logged = LOG_PRIORITY.flatMap((kind) => outcomes.filter((outcome) => outcome.outcome === kind)).slice(
    0,
    MAX_OUTCOME_LOG_LINES,
  );
  for (const { error: _error, message, ...outcome } of logged) {
    // Under its own key: Powertools writes the log's own text over a `message` key.
    logger.info('Session outcome', {
      ...outcome,
      ...(message ? { outcome_message: message } : {}),
      reason: context.reason,
      dry_run: context.dry_run,
      trigger: context.trigger,
    });
  }
  logger.info('Termination report', {
    ...context,
    summary,
    outcomes_logged: logged.length,
    outcomes_not_logged: outcomes.length - logged.length,
  });
}

/** The report phase: the outcomes to the logs (bounded), the metrics and the audit trail, then the summary. */
export async function reportOutcomes(
  request: TerminationRequest,
  dryRun: boolean,
  acted: Outcome[],
): Promise<TerminationReport> {
  const context: ReportContext = {
    reason: request.reason,
    requested_by: request.requestedBy ?? null,
    dry_run: dryRun,
    trigger: request.trigger,
    ...(request.confirmOverCap ? { confirmed_over_cap: true as const } : {}),
  };
  const outcomes = reportedKinds(acted, dryRun);
  const summary: TerminationReport['summary'] = {};
  for (const { outcome } of outcomes) summary[outcome] = (summary[outcome] ?? 0) + 1;
  logOutcomes(outcomes, { ...context, ...(request.ignored ? { ignored: request.ignored } : {}) }, summary);
  // Metrics come after the cut: Powertools Metrics is loaded here, off a cold start's critical path.
  const { publishOutcomeMetrics } = await import('./outcome-metrics.js');
  publishOutcomeMetrics(triggerKind(request.trigger), outcomes, dryRun);
  const blocked = outcomes.filter((outcome) => outcome.outcome === 'blocked');
  const [audit] = await Promise.all([
    publishAuditEvents(auditEvents(outcomes, context, request.ignored)),
    blocked.length > 0 ? notifyBlocked(blocked, context) : undefined,
  ]);
  return { ...context, ...(request.ignored ? { ignored: request.ignored } : {}), outcomes, summary, audit };
}
