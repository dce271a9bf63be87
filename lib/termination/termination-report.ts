import { type AuditEvent, publishAuditEvents } from '../aws/audit-trail.js';
import { logger } from '../core/logger.js';
import type { Outcome, OutcomeKind } from './outcome.js';
import { countOutcomes } from './outcome-metrics.js';
import type { TerminationRequest, Trigger } from './termination-request.js';

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

type ReportContext = Pick<TerminationReport, 'reason' | 'requested_by' | 'dry_run' | 'trigger'>;

const AUDIT_DETAIL_TYPES: Record<OutcomeKind, string> = {
  terminated: 'PAM Session Terminated',
  already_ended: 'PAM Session Terminated',
  failed: 'PAM Session Termination Failed',
  skipped_protected: 'PAM Session Termination Skipped',
  would_terminate: 'PAM Session Termination Skipped',
  blocked: 'PAM Session Termination Blocked',
};

function auditEvent(outcome: Outcome, context: ReportContext): AuditEvent {
  return {
    detailType: AUDIT_DETAIL_TYPES[outcome.outcome],
    detail: {
      session_id: outcome.session_id,
      outcome: outcome.outcome,
      session: outcome.session,
      ...(outcome.message ? { message: outcome.message } : {}),
      ...context,
    },
  };
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
  };
  for (const { error: _error, ...outcome } of outcomes) {
    logger.info('Session outcome', { ...outcome, reason: context.reason, dry_run: dryRun, trigger: context.trigger });
  }
  countOutcomes(outcomes);
  const audit = await publishAuditEvents(outcomes.map((outcome) => auditEvent(outcome, context)));
  const summary: TerminationReport['summary'] = {};
  for (const { outcome } of outcomes) summary[outcome] = (summary[outcome] ?? 0) + 1;
  return { ...context, ...(request.ignored ? { ignored: request.ignored } : {}), outcomes, summary, audit };
}
