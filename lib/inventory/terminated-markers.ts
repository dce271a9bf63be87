import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { awsErrorName } from '../aws/aws-errors.js';
import { putS3Object, readS3Object, s3Sdk } from '../aws/s3-objects.js';
import { logger } from '../core/logger.js';

/**
 * What this deployment terminated, kept in the inventory bucket for a day (its lifecycle removes
 * them): one small object per terminated session, one per event fully handled. A replayed finding
 * or request is recognised from them without asking the PAM Core anything.
 */
const SESSIONS_PREFIX = 'terminated/sessions/';
const EVENTS_PREFIX = 'terminated/events/';
export const REMEMBERED_FOR_MS = 24 * 60 * 60 * 1000;
const READ_TIMEOUT_MS = 3_000;
const WRITE_TIMEOUT_MS = 2_000;
const WRITES_IN_FLIGHT = 8;
const READS_IN_FLIGHT = 8;

export interface HandledEvent<Outcome = { session_id: string; outcome: string; session: unknown }> {
  event_id: string;
  handled_at: string;
  outcomes: Outcome[];
}

/** An event is its id and what it asks: the same id with other content is not a replay. */
const eventKey = (eventId: string, content: unknown) =>
  `${EVENTS_PREFIX}${createHash('sha256')
    .update(JSON.stringify([eventId, content]))
    .digest('hex')}.json`;

function unknown(what: string, error: unknown) {
  logger.warn(`Could not read ${what}; going on without it`, { reason: awsErrorName(error) ?? String(error) });
}

/**
 * Which of these sessions this deployment terminated in the last 24 hours, with when: one HEAD
 * request per id, a few at a time, so the cost follows the request, not the day's terminations.
 */
export async function terminatedAmong(
  bucket: string | undefined,
  sessionIds: readonly string[],
  now = Date.now(),
): Promise<Map<string, string>> {
  const terminated = new Map<string, string>();
  if (!bucket || sessionIds.length === 0) return terminated;
  const deadline = Date.now() + READ_TIMEOUT_MS;
  const limit = pLimit(READS_IN_FLIGHT);
  await Promise.all(
    sessionIds.map((id) =>
      limit(async () => {
        try {
          const head = await readS3Object('HEAD', bucket, `${SESSIONS_PREFIX}${id}.json`, {
            timeoutMs: Math.max(1, Math.floor(deadline - Date.now())),
          });
          const at = head.lastModified?.getTime() ?? 0;
          if (now - at <= REMEMBERED_FOR_MS) terminated.set(id, new Date(at).toISOString());
        } catch (error) {
          const name = awsErrorName(error);
          // A HEAD of a missing key answers 404 with no body: the SDK names it NotFound.
          if (name !== 'NotFound' && name !== 'NoSuchKey') unknown(`whether session ${id} was terminated`, error);
        }
      }),
    ),
  );
  return terminated;
}

/** Every session id this deployment terminated in the last 24 hours, with when (for listing, not for terminating). */
export async function recentlyTerminated(bucket: string | undefined, now = Date.now()): Promise<Map<string, string>> {
  const terminated = new Map<string, string>();
  if (!bucket) return terminated;
  // One time limit for every page: the whole read stays within it.
  const abortSignal = AbortSignal.timeout(READ_TIMEOUT_MS);
  try {
    let token: string | undefined;
    do {
      const { module, s3 } = await s3Sdk();
      const page = await s3.send(
        new module.ListObjectsV2Command({ Bucket: bucket, Prefix: SESSIONS_PREFIX, ContinuationToken: token }),
        { abortSignal },
      );
      for (const object of page.Contents ?? []) {
        const at = object.LastModified?.getTime() ?? 0;
        if (now - at > REMEMBERED_FOR_MS || !object.Key) continue;
        terminated.set(object.Key.slice(SESSIONS_PREFIX.length, -'.json'.length), new Date(at).toISOString());
      }
      token = page.NextContinuationToken;
    } while (token);
  } catch (error) {
    unknown('which sessions were terminated recently', error);
  }
  return terminated;
}

/** The record of an event this deployment already handled in full, if it did in the last 24 hours. */
export async function handledEvent<Outcome>(
  bucket: string | undefined,
  eventId: string,
  content: unknown,
): Promise<HandledEvent<Outcome> | undefined> {
  if (!bucket) return undefined;
  try {
    const object = await readS3Object('GET', bucket, eventKey(eventId, content), { timeoutMs: READ_TIMEOUT_MS });
    const record = JSON.parse(object.body) as HandledEvent<Outcome>;
    const fresh = Date.now() - (object.lastModified?.getTime() ?? 0) <= REMEMBERED_FOR_MS;
    return fresh && record.event_id === eventId && Array.isArray(record.outcomes) ? record : undefined;
  } catch (error) {
    if (awsErrorName(error) !== 'NoSuchKey') unknown('whether this event was handled before', error);
    return undefined;
  }
}

/** S3's own retries (the SDK's standard ones) cover 5xx, throttling and dropped connections. */
async function put(bucket: string, key: string, body: unknown): Promise<boolean> {
  try {
    await putS3Object(bucket, key, JSON.stringify(body), {
      contentType: 'application/json',
      timeoutMs: WRITE_TIMEOUT_MS,
    });
    return true;
  } catch (error) {
    logger.warn('Could not record a termination for replays', { key, reason: awsErrorName(error) ?? String(error) });
    return false;
  }
}

/** Records the sessions just terminated; a failure is logged, never fatal (the next index knows them ended). */
export async function rememberTerminated(bucket: string | undefined, sessionIds: string[], eventId: string) {
  if (!bucket || sessionIds.length === 0) return;
  const limit = pLimit(WRITES_IN_FLIGHT);
  const at = new Date().toISOString();
  await Promise.all(
    sessionIds.map((id) =>
      limit(() =>
        put(bucket, `${SESSIONS_PREFIX}${id}.json`, { session_id: id, terminated_at: at, event_id: eventId }),
      ),
    ),
  );
}

/** Records an event handled in full, so that a replay of it is answered from this record. */
export async function rememberHandledEvent(
  bucket: string | undefined,
  content: unknown,
  record: HandledEvent,
): Promise<void> {
  if (bucket) await put(bucket, eventKey(record.event_id, content), record);
}
