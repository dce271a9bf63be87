import pMap from 'p-map';
import { PamApiError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import type { TerminationSettings } from '../core/settings.js';
import { dropSession, listRemoteSessions, type PamCallOptions } from '../pam/pam-client.js';
import type { RemoteSession } from '../sessions/remote-session.js';
import { type Outcome, sessionFacts } from './outcome.js';
import { type Resolution, resolveTargets } from './resolve-targets.js';
import { reportOutcomes, type TerminationReport } from './termination-report.js';
import type { TerminationRequest } from './termination-request.js';

/**
 * PAM answers the same 500 for a failed drop and for a session that has already ended, and a
 * timed-out drop may have happened: look the failed ones up once; those no longer active ended.
 */
async function endedAfterAll(failed: string[], options: PamCallOptions): Promise<Set<string>> {
  if (failed.length === 0) return new Set();
  try {
    const { sessions } = await listRemoteSessions(options);
    const stillActive = new Set(sessions.filter((session) => session.active).map((session) => session.session_id));
    return new Set(failed.filter((id) => !stillActive.has(id)));
  } catch (error) {
    logger.warn('Could not re-check failed drops against the session list', {
      reason: error instanceof Error ? error.message : String(error),
    });
    return new Set();
  }
}

/** Sends PAM's drop for every candidate, a few at a time, then settles the ambiguous failures. */
async function terminateCandidates(
  candidates: RemoteSession[],
  concurrency: number,
  options: PamCallOptions,
): Promise<Outcome[]> {
  const outcomes = await pMap(
    candidates,
    async (session): Promise<Outcome> => {
      const facts = sessionFacts(session);
      try {
        await dropSession(session.session_id, options);
        return { session_id: session.session_id, outcome: 'terminated', session: facts };
      } catch (error) {
        if (!(error instanceof PamApiError)) throw error;
        return { session_id: session.session_id, outcome: 'failed', session: facts, message: error.message, error };
      }
    },
    { concurrency },
  );
  const ended = await endedAfterAll(
    outcomes.filter((outcome) => outcome.outcome === 'failed').map((outcome) => outcome.session_id),
    options,
  );
  return outcomes.map((outcome) =>
    ended.has(outcome.session_id)
      ? {
          session_id: outcome.session_id,
          outcome: 'already_ended',
          session: outcome.session,
          message: 'no longer active after an ambiguous answer to the drop',
        }
      : outcome,
  );
}

function outcomeFor(session: RemoteSession, outcome: Outcome['outcome'], message?: string): Outcome {
  return { session_id: session.session_id, outcome, session: sessionFacts(session), ...(message ? { message } : {}) };
}

/** The act phase: over the cap, nothing is terminated; in a dry run, nothing is sent. */
async function act(
  { decided, candidates }: Resolution,
  settings: TerminationSettings,
  dryRun: boolean,
  options: PamCallOptions,
): Promise<Outcome[]> {
  if (candidates.length > settings.maxSessionsPerEvent) {
    const message = `${candidates.length} sessions matched, more than MAX_SESSIONS_PER_EVENT (${settings.maxSessionsPerEvent}): none was terminated, a human decides`;
    return [...decided, ...candidates.map((session) => outcomeFor(session, 'blocked', message))];
  }
  if (dryRun) return [...decided, ...candidates.map((session) => outcomeFor(session, 'would_terminate'))];
  return [...decided, ...(await terminateCandidates(candidates, settings.dropConcurrency, options))];
}

/**
 * Terminates the sessions a request names or matches: resolve the targets against the PAM list,
 * act on them within the guardrails (protected accounts, the per-request cap, dry run), and report
 * one outcome per target to the caller, the logs, the metrics and the audit trail.
 */
export async function terminateSessions(
  request: TerminationRequest,
  settings: TerminationSettings,
  options: PamCallOptions,
): Promise<TerminationReport> {
  const dryRun = request.dryRun || settings.dryRun;
  const wanted = !request.ignored && (request.sessionIds.length > 0 || request.criteria.length > 0);
  let outcomes: Outcome[] = [];
  if (wanted) {
    const { sessions } = await listRemoteSessions(options);
    outcomes = await act(resolveTargets(request, sessions, settings), settings, dryRun, options);
  }
  return reportOutcomes(request, dryRun, outcomes);
}
