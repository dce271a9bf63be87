import { publishAuditEvents } from '../aws/audit-trail.js';
import { awsErrorName } from '../aws/aws-errors.js';
import { batchUpdateFindings } from '../aws/security-hub.js';
import { logger } from '../core/logger.js';
import type { Outcome, OutcomeKind } from './outcome.js';
import type { FindingIdentifier, TerminationRequest } from './termination-request.js';

/** Security Hub's limit on a note's text. */
export const MAX_NOTE_LENGTH = 512;
/** Who the write-back's note says wrote it: how an Imported event of our own making is told apart. */
export const NOTE_AUTHOR = 'pam-session-responder';

/**
 * What was done, in at most 512 characters: the counts per outcome, the sessions cut (as many ids
 * as fit, then "…and N more") and the trigger's id, by which the audit trail finds the rest.
 */
export function findingNote(outcomes: Outcome[], triggerId: string): string {
  const counts = new Map<OutcomeKind, number>();
  for (const { outcome } of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  const summary = counts.size === 0 ? 'no session matched' : [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ');
  const head = `pam-session-responder: ${summary}.`;
  const tail = ` Audit trigger id: ${triggerId}.`;
  const terminated = outcomes
    .filter((outcome) => outcome.outcome === 'terminated')
    .map((outcome) => outcome.session_id);
  if (terminated.length === 0) return `${head}${tail}`.slice(0, MAX_NOTE_LENGTH);
  for (let shown = terminated.length; shown >= 0; shown -= 1) {
    const more = terminated.length - shown;
    const ids = `${terminated.slice(0, shown).join(', ')}${more > 0 ? `${shown > 0 ? ' ' : ''}…and ${more} more` : ''}`;
    const note = `${head} Terminated: ${ids}.${tail}`;
    if (note.length <= MAX_NOTE_LENGTH) return note;
  }
  return `${head}${tail}`.slice(0, MAX_NOTE_LENGTH);
}

/**
 * After acting on Security Hub findings, writes the result back to them, as AWS's own remediation
 * does: a note, and the workflow NOTIFIED when a session was terminated or blocked (never RESOLVED:
 * cutting a session does not fix what the finding is about). A failure never undoes or hides the
 * termination: it is logged, counted and audited, and the invocation goes on.
 */
export async function writeBackToFindings(request: TerminationRequest, outcomes: Outcome[]): Promise<void> {
  const findings: FindingIdentifier[] = request.findings ?? [];
  if (findings.length === 0) return;
  const notify = outcomes.some((outcome) => outcome.outcome === 'terminated' || outcome.outcome === 'blocked');
  const update = {
    FindingIdentifiers: findings.map(({ id, productArn }) => ({ Id: id, ProductArn: productArn })),
    Note: { Text: findingNote(outcomes, request.trigger.event_id), UpdatedBy: NOTE_AUTHOR },
    ...(notify ? { Workflow: { Status: 'NOTIFIED' as const } } : {}),
  };
  let reason: string | undefined;
  try {
    const result = await batchUpdateFindings(update);
    const unprocessed = result.UnprocessedFindings ?? [];
    if (unprocessed.length > 0) {
      reason = unprocessed.map((finding) => `${finding.FindingIdentifier?.Id}: ${finding.ErrorCode}`).join('; ');
    }
  } catch (error) {
    reason = awsErrorName(error) ?? String(error);
  }
  if (reason === undefined) {
    logger.info('Security Hub findings updated', {
      findings: findings.length,
      workflow: notify ? 'NOTIFIED' : 'unchanged',
    });
    return;
  }
  logger.error('Could not write the outcome back to the Security Hub findings', { reason });
  const { countWriteBackFailure } = await import('./outcome-metrics.js');
  countWriteBackFailure();
  await publishAuditEvents([
    {
      detailType: 'PAM Finding Update Failed',
      detail: { findings: update.FindingIdentifiers, note: update.Note.Text, reason, trigger: request.trigger },
    },
  ]);
}
