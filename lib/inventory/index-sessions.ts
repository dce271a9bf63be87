import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { awsErrorName, storageFailure } from '../aws/aws-errors.js';
import { s3 } from '../aws/s3-client.js';
import { logger } from '../core/logger.js';
import { inventoryBucket } from '../core/settings.js';
import { type PamCallOptions, streamRemoteSessionBlocks } from '../pam/pam-client.js';
import { MalformedRecords } from '../sessions/malformed-records.js';
import { looksActive, type RemoteSession } from '../sessions/remote-session.js';
import { decodeSessionValue, parseSessionBlock } from '../sessions/session-block.js';
import { type ActiveIndex, type EndedSession, INDEX_KEY, indexAgeMs, parseActiveIndex } from './active-index.js';
import { recordIndexRun, recordIndexSkipped } from './inventory-metrics.js';

/** How long a session stays in the index's recently-ended part after the indexer saw it end. */
const RECENTLY_ENDED_MS = 24 * 60 * 60 * 1000;

export interface IndexSummary {
  s3_uri: string;
  /** Set when this run did not list: why. */
  skipped?: string;
  listed_at?: string;
  list_duration_ms?: number;
  history_size?: number;
  active?: number;
  recently_ended?: number;
  malformed?: number;
}

/** The index written last, or undefined when there is none or it cannot be read (it is then rebuilt). */
async function previousIndex(bucket: string): Promise<ActiveIndex | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: INDEX_KEY }));
    return parseActiveIndex((await object.Body?.transformToString('utf8')) ?? '').index;
  } catch (error) {
    if (awsErrorName(error) !== 'NoSuchKey') {
      logger.warn('The previous index could not be read; building a new one from scratch', {
        reason: error instanceof Error ? error.message : String(error),
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
async function buildIndex(previous: ActiveIndex | undefined, options: PamCallOptions): Promise<ActiveIndex> {
  const listedAt = new Date();
  const wasActive = new Map(previous?.active.map((session) => [session.session_id, session]));
  const active: RemoteSession[] = [];
  const endedNow: EndedSession[] = [];
  const seenEndedAt = listedAt.toISOString();
  const malformed = new MalformedRecords();
  let historySize = 0;
  // The list may take minutes: it has all the time the function has.
  const deadline = options.deadline ?? Date.now() + 15 * 60_000;
  for await (const block of streamRemoteSessionBlocks({
    deadline,
    timeoutMs: Math.max(1, Math.floor(deadline - Date.now())),
  })) {
    for (const value of parseSessionBlock(block)) {
      historySize += 1;
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
  const stillActive = new Set(active.map((session) => session.session_id));
  const endedIds = new Set(endedNow.map((session) => session.session_id));
  const carried = (previous?.recently_ended ?? []).filter(
    (session) =>
      listedAt.getTime() - Date.parse(session.seen_ended_at) <= RECENTLY_ENDED_MS &&
      !stillActive.has(session.session_id) &&
      !endedIds.has(session.session_id),
  );
  return {
    version: 1,
    listed_at: listedAt.toISOString(),
    list_duration_ms: Date.now() - listedAt.getTime(),
    history_size: historySize,
    malformed: malformed.count,
    active: active.sort((a, b) => (a.session_id < b.session_id ? -1 : a.session_id > b.session_id ? 1 : 0)),
    recently_ended: [...endedNow, ...carried],
  };
}

/** One run at a time in this container (Lambda's reserved concurrency of 1 does it across containers). */
let running = false;

/**
 * Lists the PAM Core's sessions and replaces the active-session index with one PUT. A slow PAM Core
 * is not listed back to back: after a list that took D, the next waits at least D after it ended.
 */
export async function indexSessions(options: PamCallOptions & { now?: () => number } = {}): Promise<IndexSummary> {
  const bucket = inventoryBucket();
  const now = options.now ?? Date.now;
  const s3Uri = `s3://${bucket}/${INDEX_KEY}`;
  if (running) {
    recordIndexSkipped();
    return { s3_uri: s3Uri, skipped: 'another index run is still listing in this container' };
  }
  running = true;
  try {
    const previous = await previousIndex(bucket);
    if (previous) {
      const nextAllowed = Date.parse(previous.listed_at) + 2 * previous.list_duration_ms;
      if (now() < nextAllowed) {
        const skipped = `the last list took ${previous.list_duration_ms} ms; the next may start at ${new Date(nextAllowed).toISOString()}`;
        logger.info('Index not rebuilt yet', { skipped });
        recordIndexSkipped();
        return { s3_uri: s3Uri, skipped };
      }
    }
    const index = await buildIndex(previous, options);
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
    // Measured as readers measure it, once the new index is there to replace it.
    recordIndexRun({
      listDurationMs: index.list_duration_ms,
      activeSessions: index.active.length,
      replacedAgeMs: previous ? indexAgeMs(previous) : undefined,
    });
    const summary: IndexSummary = {
      s3_uri: s3Uri,
      listed_at: index.listed_at,
      list_duration_ms: index.list_duration_ms,
      history_size: index.history_size,
      active: index.active.length,
      recently_ended: index.recently_ended.length,
      malformed: index.malformed,
    };
    logger.info('Active-session index written', { ...summary });
    return summary;
  } finally {
    running = false;
  }
}
