import { type AuditEvent, publishAuditEvents } from '../aws/audit-trail.js';
import { logger } from '../core/logger.js';
import { notifyBlocked } from './blocked-notice.js';
import type { Outcome, OutcomeKind } from './outcome.js';
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
  skipped_protected: 'PAM Session Termination Skipped',
  would_terminate: 'PAM Session Termination Skipped',
  blocked: 'PAM Session Termination Blocked',
};

/** Outcomes that are not actions are audited together, one event per request (split only to fit PutEvents). */
const AGGREGATED = new Set<OutcomeKind>(['blocked', 'would_terminate']);
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

function auditEvents(outcomes: Outcome[], context: ReportContext): AuditEvent[] {
  const events = outcomes.filter((o) => !AGGREGATED.has(o.outcome)).map((outcome) => auditEvent(outcome, context));
  for (const kind of AGGREGATED) {
    const ofKind = outcomes.filter((outcome) => outcome.outcome === kind);
    if (ofKind.length > 0) events.push(...aggregatedEvents(kind, ofKind, context));
  }
  return events;
}

/** The report phase: every outcome to the logs, the metrics and the audit trail, then the summary. */
export async function reportOutcomes(
  request: TerminationRequest,
  dryRun: boolean,
  outcomes: Outcome[],
): Promise<TerminationReport> {
  const context: ReportContext = {
    reason: request.reason,
    requested_by: request.requestedBy ?? null,
    dry_run: dryRun,
    trigger: request.trigger,
    ...(request.confirmOverCap ? { confirmed_over_cap: true as const } : {}),
  };
  for (const { error: _error, message, ...outcome } of outcomes) {
    // Under its own key: Powertools writes the log's own text over a `message` key.
    logger.info('Session outcome', {
      ...outcome,
      ...(message ? { outcome_message: message } : {}),
      reason: context.reason,
      dry_run: dryRun,
      trigger: context.trigger,
    });
  }
  // Metrics come after the cut: Powertools Metrics is loaded here, off a cold start's critical path.
  const { publishOutcomeMetrics } = await import('./outcome-metrics.js');
  publishOutcomeMetrics(triggerKind(request.trigger), outcomes);
  const blocked = outcomes.filter((outcome) => outcome.outcome === 'blocked');
  const [audit] = await Promise.all([
    publishAuditEvents(auditEvents(outcomes, context)),
    blocked.length > 0 ? notifyBlocked(blocked, context) : undefined,
  ]);
  const summary: TerminationReport['summary'] = {};
  for (const { outcome } of outcomes) summary[outcome] = (summary[outcome] ?? 0) + 1;
  return { ...context, ...(request.ignored ? { ignored: request.ignored } : {}), outcomes, summary, audit };
}
