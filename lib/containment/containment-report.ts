import { notifyAlarmTopic } from '../aws/alarm-topic.js';
import { type AuditEvent, publishAuditEvents } from '../aws/audit-trail.js';
import { awsErrorName } from '../aws/aws-errors.js';
import { batchUpdateFindings } from '../aws/security-hub.js';
import { logger } from '../core/logger.js';
import { findingNote, MAX_NOTE_LENGTH } from '../termination/finding-write-back.js';
import type { Outcome } from '../termination/outcome.js';
import type { TerminationRequest, Trigger } from '../termination/termination-request.js';
import type {
  ContainmentAction,
  ContainmentOutcome,
  ContainmentOutcomeKind,
  ContainmentReport,
} from './containment-outcome.js';

const AUDIT_DETAIL_TYPES: Record<ContainmentOutcomeKind, string> = {
  rotated: 'PAM Credential Rotated',
  quarantined: 'PAM Credential Quarantined',
  already_quarantined: 'PAM Credential Quarantined',
  reactivated: 'PAM Credential Reactivated',
  failed: 'PAM Credential Containment Failed',
  not_contained: 'PAM Credential Containment Failed',
  blocked: 'PAM Credential Containment Failed',
  skipped_protected: 'PAM Credential Containment Skipped',
  would_rotate: 'PAM Credential Containment Skipped',
  would_deactivate: 'PAM Credential Containment Skipped',
};

export interface ContainmentContext {
  reason: string;
  requested_by: string | null;
  dry_run: boolean;
  trigger: Trigger;
}

function auditEvent(outcome: ContainmentOutcome, context: ContainmentContext): AuditEvent {
  const { error: _error, ...shown } = outcome;
  return { detailType: AUDIT_DETAIL_TYPES[outcome.outcome], detail: { ...shown, ...context } };
}

/** Over the cap: a human is told at once, as for a termination over its cap. */
async function notifyBlocked(blocked: ContainmentOutcome[], context: ContainmentContext): Promise<void> {
  const ids = [...new Set(blocked.map((outcome) => outcome.credential.id))];
  await notifyAlarmTopic(`PAM credential containment blocked: ${ids.length} credentials over the cap`, {
    what: `${ids.length} credentials would have been contained, more than MAX_CREDENTIALS_PER_REQUEST: none was`,
    reason: context.reason,
    requested_by: context.requested_by,
    trigger: context.trigger,
    credential_ids: ids,
    to_contain:
      'POST /credentials/{id}/quarantine (IAM-signed) for each credential a human decides to quarantine; the audit event "PAM Credential Containment Failed" (outcome blocked) lists them',
  });
}

function containmentNote(outcomes: ContainmentOutcome[]): string {
  const counts = new Map<string, number>();
  for (const { outcome } of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  const ids = [
    ...new Set(
      outcomes
        .filter((o) => o.outcome === 'rotated' || o.outcome === 'quarantined' || o.outcome === 'already_quarantined')
        .flatMap((o) => (o.credential.id ? [o.credential.id] : [])),
    ),
  ];
  const what = [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ');
  return ` Credentials: ${what}${ids.length > 0 ? ` (ids ${ids.join(', ')})` : ''}.`;
}

/** The findings' note says what was terminated and what was contained (one note: Security Hub keeps the last). */
async function writeBack(request: TerminationRequest, sessions: Outcome[], outcomes: ContainmentOutcome[]) {
  const findings = request.findings ?? [];
  if (findings.length === 0 || outcomes.length === 0) return;
  const extra = containmentNote(outcomes).slice(0, MAX_NOTE_LENGTH / 2);
  const note = findingNote(sessions, request.trigger.event_id);
  const text =
    note.length + extra.length <= MAX_NOTE_LENGTH
      ? note + extra
      : `${note.slice(0, MAX_NOTE_LENGTH - extra.length - 1)}…${extra}`;
  try {
    const result = await batchUpdateFindings({
      FindingIdentifiers: findings.map(({ id, productArn }) => ({ Id: id, ProductArn: productArn })),
      Note: { Text: text, UpdatedBy: 'pam-session-responder' },
    });
    if ((result.UnprocessedFindings ?? []).length === 0) return;
    logger.error('Security Hub did not take the containment note', { unprocessed: result.UnprocessedFindings?.length });
  } catch (error) {
    logger.error('Could not write the containment back to the Security Hub findings', { reason: awsErrorName(error) });
  }
  const { countWriteBackFailure } = await import('../termination/outcome-metrics.js');
  countWriteBackFailure();
}

/** Each outcome to the logs, the metrics, the audit trail, the alarm topic (blocked) and the findings' note. */
export async function reportContainment(
  actions: ContainmentAction[],
  outcomes: ContainmentOutcome[],
  context: ContainmentContext,
  write: { request: TerminationRequest; sessions: Outcome[] } | undefined,
): Promise<ContainmentReport> {
  for (const { error: _error, ...outcome } of outcomes) logger.info('Credential outcome', { ...outcome, ...context });
  const { publishContainmentMetrics } = await import('./containment-metrics.js');
  publishContainmentMetrics(outcomes);
  const blocked = outcomes.filter((outcome) => outcome.outcome === 'blocked');
  const [audit] = await Promise.all([
    publishAuditEvents(outcomes.map((outcome) => auditEvent(outcome, context))),
    blocked.length > 0 ? notifyBlocked(blocked, context) : undefined,
    write ? writeBack(write.request, write.sessions, outcomes) : undefined,
  ]);
  const summary: ContainmentReport['summary'] = {};
  for (const { outcome } of outcomes) summary[outcome] = (summary[outcome] ?? 0) + 1;
  return { actions, outcomes, summary, audit };
}
