import pLimit from 'p-limit';
import { awsErrorName } from '../aws/aws-errors.js';
import { putS3Object, readS3Object, s3Sdk } from '../aws/s3-objects.js';
import { logger } from '../core/logger.js';

/**
 * The records: what this deployment terminated, kept in the inventory bucket for a day (its
 * lifecycle removes them), one small object per session. They settle PAM's refusal of a DELETE for
 * a session already ended, and keep it out of the index's active sessions in GET /sessions; they
 * never spare a session the index or PAM shows active its DELETE. Only drop's role may write them
 * (the bucket policy).
 */
const SESSIONS_PREFIX = 'terminated/sessions/';
export const REMEMBERED_FOR_MS = 24 * 60 * 60 * 1000;
const READ_TIMEOUT_MS = 3_000;
const WRITE_TIMEOUT_MS = 2_000;
const WRITES_IN_FLIGHT = 8;
const READS_IN_FLIGHT = 8;

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

/** S3's own retries (the SDK's standard ones) cover 5xx, throttling and dropped connections. */
async function put(bucket: string, key: string, body: unknown): Promise<boolean> {
  try {
    await putS3Object(bucket, key, JSON.stringify(body), {
      contentType: 'application/json',
      timeoutMs: WRITE_TIMEOUT_MS,
    });
    return true;
  } catch (error) {
    logger.error('Could not write the record of a termination', { key, reason: awsErrorName(error) ?? String(error) });
    return false;
  }
}

/**
 * Records the sessions just terminated, after the SDK's retries; resolves with how many records
 * could not be written (logged here, counted by the caller: the termination itself stands).
 */
export async function recordTerminated(bucket: string | undefined, sessionIds: string[], eventId: string) {
  if (!bucket || sessionIds.length === 0) return 0;
  const limit = pLimit(WRITES_IN_FLIGHT);
  const at = new Date().toISOString();
  const written = await Promise.all(
    sessionIds.map((id) =>
      limit(() =>
        put(bucket, `${SESSIONS_PREFIX}${id}.json`, { session_id: id, terminated_at: at, event_id: eventId }),
      ),
    ),
  );
  return written.filter((ok) => !ok).length;
}
