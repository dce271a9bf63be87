import { logger } from '../core/logger.js';
import { terminatedAmong } from '../inventory/termination-records.js';
import type { PamCallOptions } from '../pam/pam-client.js';
import { PamApiError } from '../pam/pam-errors.js';
import { settleRefusedDrops } from './fresh-sessions.js';
import type { Outcome } from './outcome.js';
import { terminatedMessage } from './resolve-targets.js';

/** Failed drops of sessions that were found: PAM's 500 is the same for a failed drop and an ended session. */
const refusedDrops = (outcomes: Outcome[]) =>
  outcomes.filter((outcome) => outcome.outcome === 'failed' && outcome.session !== null);

function ended(outcome: Outcome, message: string): Outcome {
  // What PAM said still tells an operator something.
  logger.warn('A refused drop of a session that had ended', {
    session_id: outcome.session_id,
    reason: outcome.message,
  });
  return { ...outcome, outcome: 'already_ended', message, error: undefined };
}

/**
 * A refused or unanswered drop: ended if this deployment's records show it terminated (only for
 * PAM's refusal, never to skip a DELETE), else if PAM no longer shows it active (one lookup per
 * session, the list only where lookups cannot tell). What neither settles stays failed. After a list
 * that failed, asking PAM again would most likely fail too.
 */
export async function settleRefusals(
  outcomes: Outcome[],
  context: { bucket: string | undefined; options: PamCallOptions; listFailed: boolean },
): Promise<Outcome[]> {
  const refused = refusedDrops(outcomes);
  if (refused.length === 0) return outcomes;
  const rejected = refused.filter((o) => o.error instanceof PamApiError && o.error.kind === 'rejected');
  const records = await terminatedAmong(
    context.bucket,
    rejected.map((outcome) => outcome.session_id),
  );
  const fromRecords = outcomes.map((outcome) => {
    const at = outcome.outcome === 'failed' ? records.get(outcome.session_id) : undefined;
    return at ? ended(outcome, terminatedMessage(at)) : outcome;
  });
  return context.listFailed ? fromRecords : settleRefusedDrops(fromRecords, context.options);
}
