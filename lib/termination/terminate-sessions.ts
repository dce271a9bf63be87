import pLimit from 'p-limit';
import { ResponderError, TerminationIncompleteError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { indexSettings, type TerminationSettings } from '../core/settings.js';
import { indexRefreshed, readActiveIndex } from '../inventory/active-index.js';
import {
  type HandledEvent,
  handledEvent,
  rememberHandledEvent,
  rememberTerminated,
  terminatedAmong,
} from '../inventory/terminated-markers.js';
import { dropSession, type PamCallOptions, streamRemoteSessions } from '../pam/pam-client.js';
import { prefetchPamConnection } from '../pam/pam-secret.js';
import type { RemoteSession } from '../sessions/remote-session.js';
import { writeBackToFindings } from './finding-write-back.js';
import type { Outcome, ResolvedFrom } from './outcome.js';
import { type KnownSessions, type Target, TargetResolver, terminatedMessage } from './resolve-targets.js';
import { reportOutcomes, type TerminationReport } from './termination-report.js';
import type { TerminationRequest } from './termination-request.js';

/** How long the live list waits for the DELETEs of the sessions the index resolved. */
const INDEX_DROPS_HEAD_START_MS = 250;
/** Kept from PAM's calls for what comes after them: the audit trail and the records of what was terminated. */
const REPORT_RESERVE_MS = 2_000;

export interface TerminationOptions extends PamCallOptions {
  /** The request is an EventBridge event: one handled in full before is answered from its record. */
  replayable?: boolean;
}

/** How many sessions one request may terminate: MAX_SESSIONS_PER_EVENT, unless an analyst confirmed it over HTTP. */
function capOf(request: TerminationRequest, settings: TerminationSettings): number {
  return request.confirmOverCap ? Number.POSITIVE_INFINITY : settings.maxSessionsPerEvent;
}

/**
 * PAM's drops in flight from this container, at most DROP_CONCURRENCY at a time. One limiter per
 * value: building one per request cost a warm drop about 5 µs before its DELETE.
 */
let dropLimit: { concurrency: number; limit: ReturnType<typeof pLimit> } | undefined;
function dropLimiter(concurrency: number): ReturnType<typeof pLimit> {
  if (dropLimit?.concurrency !== concurrency) dropLimit = { concurrency, limit: pLimit(concurrency) };
  return dropLimit.limit;
}

/**
 * The act phase, as targets arrive: PAM's drop goes out for each candidate at once (a few at a
 * time), within the request's cap; beyond it, candidates are blocked. In a dry run nothing is sent.
 */
class Actions {
  private readonly outcomes: Array<Outcome | Promise<Outcome>> = [];
  private readonly limit: ReturnType<typeof pLimit>;
  private accepted = 0;

  constructor(
    private readonly request: TerminationRequest,
    private readonly resolver: TargetResolver,
    private readonly settings: TerminationSettings,
    private readonly dryRun: boolean,
    private readonly options: PamCallOptions,
  ) {
    this.limit = dropLimiter(settings.dropConcurrency);
  }

  /** Candidates that can still be accepted before the cap. */
  get room(): number {
    return capOf(this.request, this.settings) - this.accepted;
  }

  add(...outcomes: Outcome[]): void {
    this.outcomes.push(...outcomes);
  }

  take(target: Target): void {
    if ('decided' in target) this.add(target.decided);
    else this.offer(target.candidate, target.from);
  }

  offer(session: RemoteSession, from: ResolvedFrom): void {
    const id = session.session_id;
    if (this.room <= 0) {
      const message = `this request already terminates MAX_SESSIONS_PER_EVENT (${this.settings.maxSessionsPerEvent}) sessions: this one was not terminated, a human decides`;
      this.add(this.resolver.outcome(id, 'blocked', session, from, { message }));
      return;
    }
    this.accepted += 1;
    if (this.dryRun) {
      this.add(this.resolver.outcome(id, 'would_terminate', session, from));
      return;
    }
    this.outcomes.push(
      this.limit(async () => {
        try {
          await dropSession(id, this.options);
          return this.resolver.outcome(id, 'terminated', session, from);
        } catch (caught) {
          // Whatever went wrong, this target gets its outcome and the others theirs.
          const error =
            caught instanceof ResponderError
              ? caught
              : new TerminationIncompleteError(`the drop of ${id} failed unexpectedly: ${String(caught)}`);
          return this.resolver.outcome(id, 'failed', session, from, { message: error.message, error });
        }
      }),
    );
  }

  /** More candidates than the cap in one go: none is terminated. */
  blockAll(sessions: RemoteSession[], from: ResolvedFrom): void {
    const message = `${sessions.length} sessions matched, more than MAX_SESSIONS_PER_EVENT (${this.settings.maxSessionsPerEvent}): none was terminated, a human decides`;
    this.add(
      ...sessions.map((session) => this.resolver.outcome(session.session_id, 'blocked', session, from, { message })),
    );
  }

  async settled(): Promise<Outcome[]> {
    return Promise.all(this.outcomes);
  }

  /** Waits until the drops sent so far are answered, or `ms` at most. */
  async headStart(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(this.outcomes),
      new Promise((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }
}

/**
 * PAM answers the same 500 for a failed drop and for a session that has already ended, and a
 * timed-out drop may have happened: look only for the failed ones in the live list; those no
 * longer active (or gone) ended.
 */
async function settleAmbiguous(outcomes: Outcome[], options: PamCallOptions): Promise<Outcome[]> {
  const failed = new Set(outcomes.filter((o) => o.outcome === 'failed' && o.session).map((o) => o.session_id));
  if (failed.size === 0) return outcomes;
  const stillActive = new Set<string>();
  try {
    const sought = new Set(failed);
    for await (const sessions of streamRemoteSessions(options)) {
      for (const session of sessions) {
        if (!sought.delete(session.session_id)) continue;
        if (session.active) stillActive.add(session.session_id);
      }
      if (sought.size === 0) break;
    }
  } catch (error) {
    logger.warn('Could not re-check failed drops against the session list', {
      reason: error instanceof Error ? error.message : String(error),
    });
    return outcomes;
  }
  return outcomes.map((outcome) =>
    failed.has(outcome.session_id) && !stillActive.has(outcome.session_id)
      ? {
          ...outcome,
          outcome: 'already_ended',
          message: 'no longer active after an ambiguous answer to the drop',
          error: undefined,
        }
      : outcome,
  );
}

/**
 * Phase 2: the live list, read as it arrives. An id still sought is acted on as soon as its record
 * arrives. Matches the index could not know are acted on as they arrive too; without a usable
 * index, the whole list is read first, so that a broad match is blocked whole, never cut in part.
 */
async function resolveLive(
  resolver: TargetResolver,
  actions: Actions,
  deferMatches: boolean,
  options: PamCallOptions,
): Promise<void> {
  const deferred: RemoteSession[] = [];
  for await (const sessions of streamRemoteSessions(options)) {
    for (const session of sessions) {
      const target = resolver.fromLive(session);
      if (!target) continue;
      if ('candidate' in target && !target.byId && deferMatches) deferred.push(target.candidate);
      else actions.take(target);
    }
    if (resolver.liveListDone) break;
  }
  actions.add(...resolver.unresolved('failed'));
  if (deferred.length > actions.room) actions.blockAll(deferred, 'live');
  else for (const session of deferred) actions.offer(session, 'live');
}

/** A replay's answer from its record: every outcome recorded, or those of `ids` when given. */
function replayedOutcomes(
  request: TerminationRequest,
  record: HandledEvent<RecordedOutcome>,
  ids?: readonly string[],
): Outcome[] {
  const only = ids && new Set(ids);
  return record.outcomes
    .filter((previous) => !only || only.has(previous.session_id))
    .map((previous) => ({
      ...previous,
      outcome: previous.outcome === 'terminated' ? 'already_ended' : previous.outcome,
      message: `this event was handled at ${record.handled_at}; it is a replay, nothing was sent`,
      resolved_from: 'index',
      index_age_ms: null,
      event_age_ms: Date.now() - (request.occurredAt ?? Date.now()),
    }));
}

type RecordedOutcome = Pick<Outcome, 'session_id' | 'outcome' | 'session'>;

/** What this deployment's records say about a request: the event handled before, the sessions it terminated. */
interface Records {
  handled: HandledEvent<RecordedOutcome> | undefined;
  terminated: Map<string, string>;
}

/** What a request asks, to tell a replay from another request under the same event id. */
function requestContent({ sessionIds, criteria, reason, dryRun, confirmOverCap }: TerminationRequest): unknown {
  return { sessionIds, criteria, reason, dryRun, confirmOverCap };
}

/**
 * For events only (an analyst's request is never held back by them): whether this event was handled
 * before, and which sessions it names this deployment terminated. Read beside the index and the first
 * DELETEs, never in front of them: the DELETE of a session already ended is refused by PAM, and
 * these records then settle it without a list.
 */
async function readRecords(bucket: string | undefined, request: TerminationRequest): Promise<Records> {
  const [handled, terminated] = await Promise.all([
    handledEvent<RecordedOutcome>(bucket, request.trigger.event_id, requestContent(request)),
    terminatedAmong(bucket, request.sessionIds),
  ]);
  return { handled, terminated };
}

/** What is known before asking PAM, read at once and in parallel with the secret. */
async function readKnown(): Promise<KnownSessions> {
  const [reading] = await Promise.all([
    readActiveIndex(),
    // The secret is needed next; reading it now overlaps its round trip with the index's.
    prefetchPamConnection(),
  ]);
  if (!reading.usable)
    logger.warn('The active-session index cannot decide; the live list will', { reason: reading.reason });
  return {
    index: reading.usable ? reading.view : undefined,
    indexAgeMs: reading.usable ? reading.ageMs : null,
    terminated: new Map(),
  };
}

/** A drop PAM refused for a session the records show ended: it had ended, and no list is needed to tell. */
function settleFromRecords(outcomes: Outcome[], ended: ReadonlyMap<string, string>): Outcome[] {
  return outcomes.map((outcome) => {
    const message = outcome.outcome === 'failed' ? ended.get(outcome.session_id) : undefined;
    if (!message) return outcome;
    // What PAM answered still tells an operator something (a 401 means its credentials are wrong).
    logger.warn('A refused drop of a session the records show ended', {
      session_id: outcome.session_id,
      reason: outcome.message,
    });
    return { ...outcome, outcome: 'already_ended', message, error: undefined };
  });
}

/** Runs `work` after the current macrotask, once the requests it started (DELETEs, PutEvents) have gone out. */
function afterThisTask<T>(work: () => Promise<T>): Promise<T> {
  return new Promise<void>((resolve) => setImmediate(resolve)).then(work);
}

/** Why the records show a session ended: this deployment terminated it, or a replayed event's record found it ended. */
function endedByRecords({ handled, terminated }: Records): Map<string, string> {
  const ended = new Map<string, string>();
  for (const [id, at] of terminated) ended.set(id, terminatedMessage(at));
  for (const previous of handled?.outcomes ?? []) {
    if (ended.has(previous.session_id)) continue;
    if (previous.outcome === 'terminated')
      ended.set(previous.session_id, `this event was handled at ${handled?.handled_at}: it terminated this session`);
    if (previous.outcome === 'already_ended')
      ended.set(previous.session_id, `this event was handled at ${handled?.handled_at}: the session had ended`);
  }
  return ended;
}

const NO_RECORDS: Records = { handled: undefined, terminated: new Map() };

/**
 * Reads what a first termination needs before its DELETE (the index, the PAM secret) while the
 * function's module loads. Never throws: a termination reads whatever is still missing.
 */
export async function prepareTermination(): Promise<void> {
  await readKnown().catch(() => undefined);
}

/**
 * Terminates the sessions a request names or matches. Resolve: from the active-session index, then
 * from the live list for what it cannot tell; for events, this deployment's records of what it
 * terminated are read beside the first DELETEs and answer replays. Act: within the guardrails
 * (protected accounts, the per-request cap, dry run), each session as soon as it is known. Report:
 * one outcome per target to the caller, the logs, the metrics and the audit trail.
 */
export async function terminateSessions(
  request: TerminationRequest,
  settings: TerminationSettings,
  options: TerminationOptions,
): Promise<TerminationReport> {
  const dryRun = request.dryRun || settings.dryRun;
  if (request.ignored || (request.sessionIds.length === 0 && request.criteria.length === 0)) {
    return reportOutcomes(request, dryRun, []);
  }
  const { bucket } = indexSettings();
  const replayable = options.replayable === true;
  // An event naming sessions by id only, no more than the cap, cannot have been blocked the first
  // time: whatever its record says, PAM's answer to its DELETEs decides, so they need not wait for it.
  // Matches and requests over the cap wait: a replay must not cut what the first handling did not.
  const recordsFirst =
    replayable && (request.criteria.length > 0 || request.sessionIds.length > settings.maxSessionsPerEvent);
  const early = recordsFirst ? readRecords(bucket, request) : undefined;
  const pam: PamCallOptions =
    options.deadline === undefined ? options : { ...options, deadline: options.deadline - REPORT_RESERVE_MS };
  const known = await readKnown();
  const resolver = new TargetResolver(request, settings, known);
  let records: Promise<Records>;
  if (early) {
    const matched = resolver.indexMatches().filter((id) => !request.sessionIds.includes(id));
    const [read, matches] = await Promise.all([early, terminatedAmong(bucket, matched)]);
    if (read.handled) {
      await indexRefreshed();
      return reportOutcomes(request, dryRun, replayedOutcomes(request, read.handled));
    }
    const terminated = new Map([...read.terminated, ...matches]);
    // The index's sessions this deployment terminated are decided as ended before any DELETE.
    for (const [id, at] of terminated) known.terminated.set(id, at);
    records = Promise.resolve({ handled: undefined, terminated });
  } else {
    // Looked up once the first DELETEs have left (a macrotask after them): signing these reads would
    // otherwise come before them. They never reject (a failed lookup is logged and found empty).
    records = replayable
      ? afterThisTask(() => readRecords(bucket, request)).catch(() => NO_RECORDS)
      : Promise.resolve(NO_RECORDS);
  }
  const actions = new Actions(request, resolver, settings, dryRun, pam);
  const first = resolver.fromKnown();
  const candidates = first.flatMap((target) => ('candidate' in target ? [target.candidate] : []));
  let listFailure: ResponderError | undefined;
  if (candidates.length > capOf(request, settings)) {
    // The index already shows the request is too broad: nothing is cut and nothing listed.
    actions.add(...first.flatMap((target) => ('decided' in target ? [target.decided] : [])));
    actions.blockAll(candidates, 'index');
    actions.add(...resolver.unresolved('blocked', { message: 'not looked up: the request was blocked as a whole' }));
  } else {
    for (const target of first) actions.take(target);
    if (resolver.needsLiveList) {
      // Before the heavy list: a replay, or ids this deployment terminated, need none.
      const { handled, terminated } = await records;
      if (handled)
        actions.add(
          ...replayedOutcomes(
            request,
            handled,
            resolver.answeredByRecord(handled.outcomes.map((previous) => previous.session_id)),
          ),
        );
      else actions.add(...resolver.remember(terminated));
    }
    if (resolver.needsLiveList) {
      // The index's sessions go first: the heavy list is not sent to PAM beside their DELETEs.
      await actions.headStart(INDEX_DROPS_HEAD_START_MS);
      try {
        await resolveLive(resolver, actions, known.index === undefined, pam);
      } catch (error) {
        if (!(error instanceof ResponderError)) {
          await actions.settled().catch(() => undefined);
          throw error;
        }
        listFailure = error;
        actions.add(...resolver.unresolved('failed', { message: error.message, error }));
      }
    }
  }

  const acted = await actions.settled();
  const read = await records;
  const settled = settleFromRecords(acted, endedByRecords(read));
  // After a list that failed, another one to settle ambiguous drops would most likely fail too.
  const outcomes = listFailure ? settled : await settleAmbiguous(settled, pam);
  const matchingFailed = listFailure !== undefined && request.criteria.length > 0;
  // Nothing was done: the failure is the whole answer.
  if (listFailure && matchingFailed && outcomes.length === 0) throw listFailure;
  // Recorded after the DELETE: for replays of events, and so that the index's active sessions leave them out.
  const terminated = outcomes.filter((outcome) => outcome.outcome === 'terminated').map((o) => o.session_id);
  const [reported] = await Promise.all([
    reportOutcomes(request, dryRun, outcomes),
    rememberTerminated(bucket, terminated, request.trigger.event_id),
    writeBackToFindings(request, outcomes),
    indexRefreshed(),
  ]);
  if (!listFailure || !matchingFailed)
    return read.handled ? reported : recordIfHandled(reported, request, outcomes, bucket, options, dryRun);
  const incomplete = {
    code: listFailure.code,
    message: `the live list could not be read to its end (${listFailure.message}): sessions it would have matched were not terminated`,
  };
  logger.warn('Termination incomplete', { ...incomplete, trigger: request.trigger });
  return { ...reported, incomplete };
}

/** An event handled in full is recorded, so that a replay of it is answered from the record. */
async function recordIfHandled(
  report: TerminationReport,
  request: TerminationRequest,
  outcomes: Outcome[],
  bucket: string | undefined,
  options: TerminationOptions,
  dryRun: boolean,
): Promise<TerminationReport> {
  // A failed audit alone still records it: Lambda's retry, there for the audit, is then answered from the record
  // (and audited again) instead of matching afresh. A failed drop or list is not recorded: its retry acts again.
  const complete = outcomes.every((outcome) => outcome.outcome !== 'failed');
  if (options.replayable && complete && !dryRun) {
    await rememberHandledEvent(bucket, requestContent(request), {
      event_id: request.trigger.event_id,
      handled_at: new Date().toISOString(),
      outcomes: outcomes.map(({ session_id, outcome, session }) => ({ session_id, outcome, session })),
    });
  }
  return report;
}
