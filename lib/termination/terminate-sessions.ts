import { ResponderError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { indexSettings, type TerminationSettings } from '../core/settings.js';
import { heldActiveIndex, indexRefreshed, readActiveIndex } from '../inventory/active-index.js';
import { recordFullListFallback } from '../inventory/inventory-metrics.js';
import { recordTerminated } from '../inventory/termination-records.js';
import type { PamCallOptions } from '../pam/pam-client.js';
import { heldPamConnection, prefetchPamConnection } from '../pam/pam-secret.js';
import { keepBlockedRequest } from './blocked-requests.js';
import { checkEnded } from './check-ended.js';
import { writeBackToFindings } from './finding-write-back.js';
import { confirmActive, sessionsSinceIndex } from './fresh-sessions.js';
import { resolveLive } from './live-resolution.js';
import { type KnownSessions, type Target, TargetResolver } from './resolve-targets.js';
import { settleRefusals } from './settle-refusals.js';
import { capOf, TerminationActions } from './termination-actions.js';
import { reportOutcomes, type TerminationReport } from './termination-report.js';
import type { TerminationRequest } from './termination-request.js';

/** How long the live list waits for the DELETEs of the sessions the index resolved. */
const INDEX_DROPS_HEAD_START_MS = 250;
/** More sessions than this opened since the index: one list costs less than a lookup each. */
const SINCE_INDEX_MAX_LOOKUPS = 200;
/** Kept from PAM's calls for what comes after them: the audit trail and the records. */
const REPORT_RESERVE_MS = 2_000;

/** What this container holds, when that is enough to decide: a fresh index and the PAM secret. */
function heldKnown(): KnownSessions | undefined {
  try {
    const reading = heldPamConnection() ? heldActiveIndex() : undefined;
    return reading && { index: reading.view, indexAgeMs: reading.ageMs };
  } catch {
    // A setting that is wrong: readKnown deals with it, as it did before anything was held.
    return undefined;
  }
}

/** What is known before asking PAM (the index), read in parallel with the secret. */
async function readKnown(): Promise<KnownSessions> {
  const [reading] = await Promise.all([readActiveIndex(), prefetchPamConnection()]);
  if (!reading.usable)
    logger.warn('The active-session index cannot decide; the live list will', { reason: reading.reason });
  return { index: reading.usable ? reading.view : undefined, indexAgeMs: reading.usable ? reading.ageMs : null };
}

/**
 * Reads what a first termination needs before its DELETE (the index, the PAM secret) while the
 * function's module loads. Never throws: a termination reads whatever is still missing.
 */
export async function prepareTermination(): Promise<void> {
  await readKnown().catch(() => undefined);
}

type Phase = { actions: TerminationActions; listFailure?: ResponderError };
type Candidate = Extract<Target, { candidate: unknown }>;
const isCandidate = (target: Target): target is Candidate => 'candidate' in target;

/**
 * Over the cap on the index's word, its candidates are asked about first (one lookup each): an index
 * minutes old must not shield sessions that ended since, nor count them.
 */
async function recheckOverCap(first: Target[], resolver: TargetResolver, options: PamCallOptions): Promise<Target[]> {
  const candidates = first.filter(isCandidate);
  const states = await confirmActive(
    candidates.map(({ candidate }) => candidate),
    options,
  );
  return first.map((target) => {
    if (!isCandidate(target)) return target;
    const now = states.get(target.candidate.session_id);
    if (now?.active) return { ...target, candidate: now.session ?? target.candidate };
    const message = 'the index showed it active; the PAM Core no longer does';
    return {
      decided: resolver.outcome(
        target.candidate.session_id,
        'already_ended',
        now?.session ?? target.candidate,
        'live',
        { message },
      ),
    };
  });
}

/** The sessions opened since the index, one lookup each; false when lookups cannot tell (the list must). */
async function resolveSinceIndex(
  index: KnownSessions['index'],
  resolver: TargetResolver,
  actions: TerminationActions,
  options: PamCallOptions,
): Promise<void> {
  if (!index) return;
  const since = await sessionsSinceIndex(index.index, {
    ...options,
    maxLookups: SINCE_INDEX_MAX_LOOKUPS,
    onSession: (session) => {
      const target = resolver.fromLive(session);
      if (target) actions.take(target);
      return resolver.liveListDone;
    },
  });
  // Walked to its end: every session opened since the index was seen.
  if (since.via === 'lookup' && since.complete) resolver.settleMatches();
}

/**
 * Resolve and act: the index's targets at once, then the sessions opened since it (by lookup), and
 * the live list only for what neither can tell. The index alone never blocks a request: over the cap
 * on its word, its candidates are confirmed with PAM first, and only those still active count.
 */
async function resolveAndAct(
  request: TerminationRequest,
  settings: TerminationSettings,
  dryRun: boolean,
  known: KnownSessions,
  options: PamCallOptions,
): Promise<Phase> {
  const resolver = new TargetResolver(request, settings, known);
  const actions = new TerminationActions(request, resolver, settings, dryRun, options);
  try {
    let first = resolver.fromKnown();
    const cap = capOf(request, settings);
    if (first.filter(isCandidate).length > cap) first = await recheckOverCap(first, resolver, options);
    const candidates = first.filter(isCandidate);
    if (candidates.length > cap) {
      // Still over: newer sessions could only add to it; nothing is terminated and nothing listed.
      actions.add(...first.flatMap((target) => ('decided' in target ? [target.decided] : [])));
      actions.blockAll(
        candidates.map(({ candidate }) => candidate),
        'live',
      );
      actions.add(...resolver.unresolved('blocked', { message: 'not looked up: the request was blocked as a whole' }));
      return { actions };
    }
    for (const target of first) actions.take(target);
    if (!resolver.needsLiveList) return { actions };
    // The index's sessions go first: PAM is not asked about others beside their DELETEs.
    await actions.headStart(INDEX_DROPS_HEAD_START_MS);
    await resolveSinceIndex(known.index, resolver, actions, options);
    if (!resolver.needsLiveList) return { actions };
    if (resolver.usesIndex) recordFullListFallback('terminate', 'ids neither the index nor the sessions since it know');
    await resolveLive(resolver, actions, !resolver.usesIndex, options);
    return { actions };
  } catch (error) {
    if (!(error instanceof ResponderError)) {
      await actions.settled().catch(() => undefined);
      throw error;
    }
    actions.add(...resolver.unresolved('failed', { message: error.message, error }));
    return { actions, listFailure: error };
  }
}

/**
 * Terminates the sessions a request names or matches. Resolve: from the active-session index, then
 * from the live list for what it cannot tell. Act: within the guardrails (protected accounts, the
 * per-request cap, dry run), each session as soon as it is known. Report: one outcome per target to
 * the caller, the logs, the metrics, the audit trail, the records and the Security Hub write-back.
 */
export async function terminateSessions(
  request: TerminationRequest,
  settings: TerminationSettings,
  options: PamCallOptions,
): Promise<TerminationReport> {
  const dryRun = request.dryRun || settings.dryRun;
  if (request.ignored || (request.sessionIds.length === 0 && request.criteria.length === 0))
    return reportOutcomes(request, dryRun, []);
  const { bucket } = indexSettings();
  const pam = options.deadline === undefined ? options : { ...options, deadline: options.deadline - REPORT_RESERVE_MS };
  const known = heldKnown() ?? (await readKnown());
  const { actions, listFailure } = await resolveAndAct(request, settings, dryRun, known, pam);
  const settled = await settleRefusals(await actions.settled(), {
    bucket,
    options: pam,
    listFailed: listFailure !== undefined,
  });
  const outcomes = await checkEnded(settled, settings.endedCheckAttempts, pam);
  const matchingFailed = listFailure !== undefined && request.criteria.length > 0;
  // Nothing was done: the failure is the whole response.
  if (listFailure && matchingFailed && outcomes.length === 0) throw listFailure;
  const terminated = outcomes.filter((outcome) => outcome.outcome === 'terminated').map((o) => o.session_id);
  const blocked = dryRun ? [] : outcomes.filter((outcome) => outcome.outcome === 'blocked');
  const [report, unrecorded] = await Promise.all([
    reportOutcomes(request, dryRun, outcomes),
    recordTerminated(bucket, terminated, request.trigger.event_id),
    writeBackToFindings(request, outcomes),
    keepBlockedRequest(request, blocked),
    indexRefreshed(),
  ]);
  if (unrecorded > 0) (await import('./outcome-metrics.js')).countRecordWriteFailures(unrecorded);
  if (!listFailure || !matchingFailed) return report;
  const incomplete = {
    code: listFailure.code,
    message: `the live list could not be read to its end (${listFailure.message}): sessions it would have matched were not terminated`,
  };
  // `message` is the logger's own key: the text goes in `reason`, or the line would lose it.
  logger.warn('Termination incomplete', {
    code: incomplete.code,
    reason: incomplete.message,
    trigger: request.trigger,
  });
  return { ...report, incomplete };
}
