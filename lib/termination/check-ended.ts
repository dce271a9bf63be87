import pRetry from 'p-retry';
import { errorMessage } from '../core/errors.js';
import { logger } from '../core/logger.js';
import type { PamCallOptions } from '../pam/pam-client.js';
import { isNumericSessionId, LookupUnavailableError, lookupSessions } from '../pam/session-lookup.js';
import type { Outcome } from './outcome.js';

/** PAM may end a session a moment after it accepts the DELETE: the first recheck waits this long, then twice as long. */
const FIRST_RECHECK_MS = 250;
/** A recheck that could not be over before the deadline is not started. */
const RECHECK_MARGIN_MS = 500;

class StillActive extends Error {}

/**
 * After PAM accepted a DELETE: whether PAM now shows each terminated session ended, by one lookup
 * of its numeric id (gone, or `end` set), asked again up to ENDED_CHECK_ATTEMPTS times while it is
 * still active. `confirmed` is true when it ended, false when it is still active after every
 * attempt (counted and alarmed: an operator must look), null when PAM could not tell (no numeric
 * id, no lookup route, the id now names another session, a failed lookup). Never the full list.
 */
export async function checkEnded(
  outcomes: Outcome[],
  attempts: number,
  options: PamCallOptions = {},
): Promise<Outcome[]> {
  const terminated = outcomes.filter((outcome) => outcome.outcome === 'terminated');
  if (terminated.length === 0) return outcomes;
  const confirmed = new Map<string, boolean | null>();
  const pending = new Map<string, Outcome>();
  for (const outcome of terminated) {
    const id = outcome.session?.id;
    if (attempts > 0 && isNumericSessionId(id)) pending.set(id, outcome);
    else confirmed.set(outcome.session_id, null);
  }
  if (pending.size === 0) return withConfirmed(outcomes, confirmed);
  let heardFrom = false; // PAM responded to at least one round of lookups
  const lookUp = async () => {
    const found = await lookupSessions([...pending.keys()], options);
    heardFrom = true;
    for (const [id, outcome] of pending) {
      const now = found.get(id);
      if (now !== undefined && now.session_id !== outcome.session_id) confirmed.set(outcome.session_id, null);
      else if (now?.active) continue;
      else confirmed.set(outcome.session_id, true);
      pending.delete(id);
    }
    if (pending.size > 0) throw new StillActive(`${pending.size} sessions still active`);
  };
  try {
    await pRetry(lookUp, {
      retries: Math.max(0, attempts - 1),
      minTimeout: FIRST_RECHECK_MS,
      factor: 2,
      randomize: true,
      shouldRetry: ({ error }) =>
        error instanceof StillActive &&
        (options.deadline === undefined || Date.now() + FIRST_RECHECK_MS * 4 + RECHECK_MARGIN_MS < options.deadline),
    });
  } catch (error) {
    if (!(error instanceof StillActive)) {
      const reason = errorMessage(error);
      if (error instanceof LookupUnavailableError) logger.info('Terminated sessions not checked', { reason });
      else logger.warn('Could not check that terminated sessions ended', { reason });
    }
  }
  // Seen active after the DELETE: false; PAM never responded about it: it could not tell.
  for (const outcome of pending.values()) confirmed.set(outcome.session_id, heardFrom ? false : null);
  return withConfirmed(outcomes, confirmed);
}

function withConfirmed(outcomes: Outcome[], confirmed: Map<string, boolean | null>): Outcome[] {
  return outcomes.map((outcome) =>
    outcome.outcome === 'terminated' ? { ...outcome, confirmed: confirmed.get(outcome.session_id) ?? null } : outcome,
  );
}
