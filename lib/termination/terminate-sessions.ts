import { ResponderError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { indexSettings, type TerminationSettings } from '../core/settings.js';
import { indexRefreshed, readActiveIndex } from '../inventory/active-index.js';
import { recordTerminated } from '../inventory/termination-records.js';
import type { PamCallOptions } from '../pam/pam-client.js';
import { prefetchPamConnection } from '../pam/pam-secret.js';
import { keepBlockedRequest } from './blocked-requests.js';
import { writeBackToFindings } from './finding-write-back.js';
import { resolveLive } from './live-resolution.js';
import { type KnownSessions, TargetResolver } from './resolve-targets.js';
import { settleRefusals } from './settle-refusals.js';
import { capOf, TerminationActions } from './termination-actions.js';
import { reportOutcomes, type TerminationReport } from './termination-report.js';
import type { TerminationRequest } from './termination-request.js';

/** How long the live list waits for the DELETEs of the sessions the index resolved. */
const INDEX_DROPS_HEAD_START_MS = 250;
/** Kept from PAM's calls for what comes after them: the audit trail and the records. */
const REPORT_RESERVE_MS = 2_000;

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

type Phase = { resolver: TargetResolver; actions: TerminationActions; listFailure?: ResponderError };

/**
 * Resolve and act: the index's targets at once, then the live list for what the index cannot tell.
 * The index alone never blocks a request: over the cap on its word, the live list decides, so
 * sessions that ended since the index are not counted.
 */
async function resolveAndAct(
  request: TerminationRequest,
  settings: TerminationSettings,
  dryRun: boolean,
  known: KnownSessions,
  options: PamCallOptions,
): Promise<Phase> {
  let resolver = new TargetResolver(request, settings, known);
  const first = resolver.fromKnown();
  const fromIndex = first.filter((target) => 'candidate' in target).length;
  if (fromIndex > capOf(request, settings))
    resolver = new TargetResolver(request, settings, { ...known, index: undefined });
  const actions = new TerminationActions(request, resolver, settings, dryRun, options);
  if (resolver.usesIndex) for (const target of first) actions.take(target);
  if (!resolver.needsLiveList) return { resolver, actions };
  // The index's sessions go first: the heavy list is not sent to PAM beside their DELETEs.
  await actions.headStart(INDEX_DROPS_HEAD_START_MS);
  try {
    await resolveLive(resolver, actions, !resolver.usesIndex, options);
    return { resolver, actions };
  } catch (error) {
    if (!(error instanceof ResponderError)) {
      await actions.settled().catch(() => undefined);
      throw error;
    }
    actions.add(...resolver.unresolved('failed', { message: error.message, error }));
    return { resolver, actions, listFailure: error };
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
  const { actions, listFailure } = await resolveAndAct(request, settings, dryRun, await readKnown(), pam);
  const outcomes = await settleRefusals(await actions.settled(), {
    bucket,
    options: pam,
    listFailed: listFailure !== undefined,
  });
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
  logger.warn('Termination incomplete', { ...incomplete, trigger: request.trigger });
  return { ...report, incomplete };
}
