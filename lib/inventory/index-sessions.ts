import { PutObjectCommand } from '@aws-sdk/client-s3';
import { awsErrorName, storageFailure } from '../aws/aws-errors.js';
import { s3 } from '../aws/s3-client.js';
import { readS3Object } from '../aws/s3-objects.js';
import { errorMessage } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { indexerSettings, inventoryBucket, lookupSettings } from '../core/settings.js';
import { type PamCallOptions, streamRemoteSessionBlocks } from '../pam/pam-client.js';
import { isNumericSessionId, LookupUnavailableError, lookupSessions } from '../pam/session-lookup.js';
import { sessionsOpenedSince } from '../pam/session-tail.js';
import { MalformedRecords } from '../sessions/malformed-records.js';
import { looksActive, type RemoteSession } from '../sessions/remote-session.js';
import { decodeSessionValue, parseSessionBlock } from '../sessions/session-block.js';
import { type ActiveIndex, type EndedSession, INDEX_KEY, indexAgeMs, parseActiveIndex } from './active-index.js';
import { recordFullListFallback, recordIndexLookups, recordIndexRun, recordIndexSkipped } from './inventory-metrics.js';

/** How long a session stays in the index's recently-ended part after the indexer saw it end. */
const RECENTLY_ENDED_MS = 24 * 60 * 60 * 1000;

export interface IndexSummary {
  s3_uri: string;
  /** Set when this run wrote nothing: why. */
  skipped?: string;
  /** full_list: PAM's whole list was read; refresh: the sessions opened since and the active ones, by lookup. */
  kind?: 'full_list' | 'refresh';
  listed_at?: string;
  list_duration_ms?: number;
  refresh_duration_ms?: number;
  /** Lookups this run sent, and in the current minute with those of earlier runs (INDEX_MAX_LOOKUPS_PER_MINUTE). */
  lookups?: number;
  lookups_this_minute?: number;
  /** Sessions the refresh found opened since the previous index. */
  new_sessions?: number;
  highest_id?: number | null;
  history_size?: number;
  active?: number;
  recently_ended?: number;
  malformed?: number;
}

/** The previous index is a few MB at most: past this, it is rebuilt rather than waited for. */
const PREVIOUS_INDEX_TIMEOUT_MS = 30_000;

/** The index written last, or undefined when there is none or it cannot be read (it is then rebuilt). */
async function previousIndex(bucket: string): Promise<ActiveIndex | undefined> {
  try {
    const object = await readS3Object('GET', bucket, INDEX_KEY, { timeoutMs: PREVIOUS_INDEX_TIMEOUT_MS });
    return parseActiveIndex(object.body).index;
  } catch (error) {
    if (awsErrorName(error) !== 'NoSuchKey') {
      logger.warn('The previous index could not be read; building a new one from scratch', {
        reason: errorMessage(error),
      });
    }
    return undefined;
  }
}

/**
 * Reads the whole list once, as it arrives, keeping only the active sessions and those that were
 * active in the previous index and that the list now shows ended (JSON.parse reads every record;
 * only those are normalised). Sessions seen ending in the last 24 hours are carried over.
 */
async function buildIndex(
  previous: ActiveIndex | undefined,
  options: PamCallOptions,
  lookupWindow: LookupWindow = previous?.lookup_window,
): Promise<ActiveIndex> {
  const listedAt = new Date();
  const wasActive = new Map(previous?.active.map((session) => [session.session_id, session]));
  const active: RemoteSession[] = [];
  const endedNow: EndedSession[] = [];
  const seenEndedAt = listedAt.toISOString();
  const malformed = new MalformedRecords();
  let historySize = 0;
  let highestId: number | null = null;
  // The list may take minutes: it has all the time the function has.
  const deadline = options.deadline ?? Date.now() + 15 * 60_000;
  for await (const block of streamRemoteSessionBlocks({
    deadline,
    timeoutMs: Math.max(1, Math.floor(deadline - Date.now())),
  })) {
    for (const value of parseSessionBlock(block)) {
      historySize += 1;
      const id = numericIdOf(value);
      if (id !== undefined && (highestId === null || id > highestId)) highestId = id;
      const sessionId = (value as { session_id?: unknown } | null)?.session_id;
      if (!looksActive(value) && !(typeof sessionId === 'string' && wasActive.has(sessionId))) continue;
      const result = decodeSessionValue(value);
      if (!result.ok) malformed.add([result.reason]);
      else if (result.session.active) active.push(result.session);
      else endedNow.push({ ...result.session, seen_ended_at: seenEndedAt });
      if (typeof sessionId === 'string') wasActive.delete(sessionId);
    }
  }
  // Sessions active last time and absent now are not taken for ended: a list cut short would say so of many. They
  // leave the index, so a request for one asks the live list.
  return {
    version: 1,
    listed_at: listedAt.toISOString(),
    list_duration_ms: Date.now() - listedAt.getTime(),
    full_listed_at: listedAt.toISOString(),
    highest_id: highestId,
    ...(lookupWindow ? { lookup_window: lookupWindow } : {}),
    history_size: historySize,
    malformed: malformed.count,
    active: sortedById(active),
    recently_ended: [...endedNow, ...carriedEnded(previous, listedAt.getTime(), active, endedNow)],
  };
}

/** PAM's numeric id of a record as it arrived (3 or "3"), when it has one. */
function numericIdOf(value: unknown): number | undefined {
  const id = (value as { id?: unknown } | null)?.id;
  const text = typeof id === 'number' ? String(id) : id;
  return typeof text === 'string' && isNumericSessionId(text) ? Number(text) : undefined;
}

function sortedById(sessions: RemoteSession[]): RemoteSession[] {
  return sessions.sort((a, b) => (a.session_id < b.session_id ? -1 : a.session_id > b.session_id ? 1 : 0));
}

/** The previous index's recently ended sessions still within the day, and neither active nor ended again now. */
function carriedEnded(
  previous: ActiveIndex | undefined,
  nowMs: number,
  active: RemoteSession[],
  endedNow: EndedSession[],
): EndedSession[] {
  const current = new Set([...active, ...endedNow].map((session) => session.session_id));
  return (previous?.recently_ended ?? []).filter(
    (session) => nowMs - Date.parse(session.seen_ended_at) <= RECENTLY_ENDED_MS && !current.has(session.session_id),
  );
}

/** The lookups left in the current minute (INDEX_MAX_LOOKUPS_PER_MINUTE), counting those of earlier runs. */
function lookupBudget(previous: ActiveIndex, nowMs: number, maxPerMinute: number) {
  const window = previous.lookup_window;
  const started = window ? Date.parse(window.started_at) : Number.NaN;
  if (window && nowMs >= started && nowMs - started < 60_000) {
    return { startedAt: window.started_at, used: window.lookups, left: maxPerMinute - window.lookups };
  }
  return { startedAt: new Date(nowMs).toISOString(), used: 0, left: maxPerMinute };
}

type Refresh =
  | { index: ActiveIndex; lookups: number; newSessions: number }
  /** A full list instead; `spent`: the lookups a refresh sent before it gave up, and the minute's count with them. */
  | { fallback: string; spent?: { lookups: number; window: LookupWindow } }
  /** Not now: this minute's lookups are spent, a later update has a new minute's (a list would load PAM more). */
  | { postponed: string };

type LookupWindow = ActiveIndex['lookup_window'];

/**
 * Between full lists: the sessions opened since (ids above highest_id, walked by lookup) and each
 * session the index holds as active, looked up again, within INDEX_MAX_LOOKUPS_PER_MINUTE. What a
 * lookup shows ended moves to the recently ended; what PAM no longer has leaves the index (the next
 * full list reconciles). Lookups PAM cannot answer, or more than the budget allows, make it a full
 * list (`fallback`).
 */
async function refreshIndex(
  previous: ActiveIndex,
  highestId: number,
  nowMs: number,
  options: PamCallOptions,
): Promise<Refresh> {
  const { maxLookupsPerMinute } = indexerSettings();
  const { stopAfterMisses } = lookupSettings();
  const withoutId = previous.active.find((session) => !isNumericSessionId(session.id));
  if (withoutId) return { fallback: `active session ${withoutId.session_id} has no numeric id to look it up by` };
  const budget = lookupBudget(previous, nowMs, maxLookupsPerMinute);
  const needed = previous.active.length + stopAfterMisses;
  if (budget.left < needed) {
    const why = `a refresh needs at least ${needed} lookups (${previous.active.length} active sessions and ${stopAfterMisses} past the newest), ${budget.left} are left this minute of INDEX_MAX_LOOKUPS_PER_MINUTE (${maxLookupsPerMinute})`;
    return needed <= maxLookupsPerMinute ? { postponed: why } : { fallback: why };
  }
  const refreshedAt = new Date(nowMs);
  const seenEndedAt = refreshedAt.toISOString();
  let tail: Awaited<ReturnType<typeof sessionsOpenedSince>>;
  let rechecked: Map<string, RemoteSession | undefined>;
  try {
    // The new sessions first: they are what the index is most often missing.
    tail = await sessionsOpenedSince(highestId, { ...options, maxLookups: budget.left - previous.active.length });
    if (!tail.complete) {
      return {
        fallback: `more sessions opened since the index than INDEX_MAX_LOOKUPS_PER_MINUTE (${maxLookupsPerMinute}) leaves lookups for`,
        spent: {
          lookups: tail.lookups,
          window: { started_at: budget.startedAt, lookups: budget.used + tail.lookups },
        },
      };
    }
    rechecked = await lookupSessions(
      previous.active.map((session) => session.id as string),
      options,
    );
  } catch (error) {
    if (error instanceof LookupUnavailableError) return { fallback: error.message };
    throw error;
  }
  const active: RemoteSession[] = [];
  const endedNow: EndedSession[] = [];
  const place = (session: RemoteSession) => {
    if (session.active) active.push(session);
    else endedNow.push({ ...session, seen_ended_at: seenEndedAt });
  };
  for (const held of previous.active) {
    const now = rechecked.get(held.id as string);
    // Gone from PAM, or the id now names another session: left out, as a full list would leave it.
    if (now?.session_id === held.session_id) place(now);
  }
  const known = new Set(previous.active.map((session) => session.session_id));
  for (const session of tail.sessions) if (!known.has(session.session_id)) place(session);
  const lookups = tail.lookups + previous.active.length;
  return {
    lookups,
    newSessions: tail.sessions.length,
    index: {
      ...previous,
      listed_at: refreshedAt.toISOString(),
      full_listed_at: previous.full_listed_at ?? previous.listed_at,
      highest_id: Math.max(highestId, tail.highestId),
      lookup_window: { started_at: budget.startedAt, lookups: budget.used + lookups },
      history_size: previous.history_size + tail.sessions.length,
      active: sortedById(active),
      recently_ended: [...endedNow, ...carriedEnded(previous, nowMs, active, endedNow)],
    },
  };
}

/** One run at a time in this container (Lambda's reserved concurrency of 1 does it across containers). */
let running = false;

async function writeIndex(bucket: string, index: ActiveIndex): Promise<void> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: INDEX_KEY,
        Body: JSON.stringify(index),
        ContentType: 'application/json',
      }),
    );
  } catch (error) {
    throw storageFailure(error, bucket);
  }
}

function skip(s3Uri: string, skipped: string): IndexSummary {
  logger.info('Index not rewritten', { skipped });
  recordIndexSkipped();
  return { s3_uri: s3Uri, skipped };
}

function summaryOf(s3Uri: string, index: ActiveIndex): IndexSummary {
  return {
    s3_uri: s3Uri,
    listed_at: index.listed_at,
    history_size: index.history_size,
    active: index.active.length,
    recently_ended: index.recently_ended.length,
    malformed: index.malformed,
    highest_id: index.highest_id ?? null,
  };
}

/**
 * Keeps the active-session index fresh whatever the history's size. Every INDEX_FULL_LIST_MINUTES
 * (60) it lists the PAM Core's whole history and replaces the index with one PUT; in between, each
 * run refreshes it by lookup (the sessions opened since, and the active ones again). Without lookups
 * (no numeric ids, a PAM that refuses the route, more than INDEX_MAX_LOOKUPS_PER_MINUTE) every run lists, but a slow PAM Core is not listed
 * back to back: after a list that took D, the next waits at least D after it ended.
 */
export async function indexSessions(
  options: PamCallOptions & { now?: () => number; refreshOnly?: boolean } = {},
): Promise<IndexSummary> {
  const bucket = inventoryBucket();
  const now = options.now ?? Date.now;
  const s3Uri = `s3://${bucket}/${INDEX_KEY}`;
  if (running) return skip(s3Uri, 'another index run is still listing in this container');
  running = true;
  try {
    const previous = await previousIndex(bucket);
    if (options.refreshOnly && !previous) return skip(s3Uri, 'no index to refresh yet');
    let lookupWindow = previous?.lookup_window;
    if (previous) {
      const fullListedAt = Date.parse(previous.full_listed_at ?? previous.listed_at);
      const nextListAllowed = fullListedAt + 2 * previous.list_duration_ms;
      const fullListDue = now() >= Math.max(nextListAllowed, fullListedAt + indexerSettings().fullListIntervalMs);
      if (!fullListDue || options.refreshOnly) {
        const startedAt = now();
        const highest = previous.highest_id;
        const refresh: Refresh =
          highest === undefined || highest === null
            ? { fallback: 'the index knows no numeric session id' }
            : await refreshIndex(previous, highest, startedAt, options);
        if ('index' in refresh) {
          await writeIndex(bucket, refresh.index);
          const summary: IndexSummary = {
            ...summaryOf(s3Uri, refresh.index),
            kind: 'refresh',
            refresh_duration_ms: now() - startedAt,
            lookups: refresh.lookups,
            lookups_this_minute: refresh.index.lookup_window?.lookups ?? refresh.lookups,
            new_sessions: refresh.newSessions,
          };
          recordIndexLookups(refresh.lookups);
          recordIndexRun({ activeSessions: summary.active ?? 0, replacedAgeMs: indexAgeMs(previous) });
          logger.info('Active-session index refreshed by lookup', { ...summary });
          return summary;
        }
        if ('postponed' in refresh) return skip(s3Uri, `${refresh.postponed}: the next update refreshes`);
        if (options.refreshOnly)
          return skip(s3Uri, `not refreshed by lookup (${refresh.fallback}): the next run lists`);
        recordFullListFallback('index_sessions', refresh.fallback);
        if (refresh.spent) {
          recordIndexLookups(refresh.spent.lookups);
          lookupWindow = refresh.spent.window;
        }
        if (now() < nextListAllowed) {
          return skip(
            s3Uri,
            `the last list took ${previous.list_duration_ms} ms; the next may start at ${new Date(nextListAllowed).toISOString()}`,
          );
        }
      }
    }
    const index = await buildIndex(previous, options, lookupWindow);
    await writeIndex(bucket, index);
    // Measured as readers measure it, once the new index is there to replace it.
    recordIndexRun({
      listDurationMs: index.list_duration_ms,
      activeSessions: index.active.length,
      replacedAgeMs: previous ? indexAgeMs(previous) : undefined,
    });
    const summary: IndexSummary = {
      ...summaryOf(s3Uri, index),
      kind: 'full_list',
      list_duration_ms: index.list_duration_ms,
    };
    logger.info('Active-session index written', { ...summary });
    return summary;
  } finally {
    running = false;
  }
}
