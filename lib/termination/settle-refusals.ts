import { PamApiError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { terminatedAmong } from '../inventory/termination-records.js';
import { type PamCallOptions, streamRemoteSessions } from '../pam/pam-client.js';
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

/** The sessions among `ids` the live list still shows active (undefined when it cannot be read). */
async function stillActive(ids: Set<string>, options: PamCallOptions): Promise<Set<string> | undefined> {
  const active = new Set<string>();
  try {
    const sought = new Set(ids);
    for await (const sessions of streamRemoteSessions(options)) {
      for (const session of sessions)
        if (sought.delete(session.session_id) && session.active) active.add(session.session_id);
      if (sought.size === 0) break;
    }
  } catch (error) {
    logger.warn('Could not re-check failed drops against the session list', {
      reason: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
  return active;
}

/**
 * A refused or unanswered drop: ended if this deployment's records show it terminated (only for
 * PAM's refusal, never to skip a DELETE), else if the live list no longer shows it active. What
 * neither settles stays failed. After a list that failed, another would most likely fail too.
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
  const unsettled = new Set(refused.map((o) => o.session_id).filter((id) => !records.has(id)));
  const active = unsettled.size > 0 && !context.listFailed ? await stillActive(unsettled, context.options) : undefined;
  return outcomes.map((outcome) => {
    if (outcome.outcome !== 'failed' || outcome.session === null) return outcome;
    const at = records.get(outcome.session_id);
    if (at) return ended(outcome, terminatedMessage(at));
    if (active && !active.has(outcome.session_id))
      return ended(outcome, 'no longer active after an ambiguous answer to the drop');
    return outcome;
  });
}
