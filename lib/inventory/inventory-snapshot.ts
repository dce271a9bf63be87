import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { storageFailure } from '../aws/aws-errors.js';
import { s3 } from '../aws/s3-client.js';
import { ResponseTooLargeError, SnapshotNotFoundError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { inventoryBucket } from '../core/settings.js';
import type { RemoteSession } from '../sessions/remote-session.js';
import { filterSessions, type SessionFilter } from '../sessions/session-filter.js';
import { EXPORT_PREFIX, exportTimeOf } from './export-key.js';

/** A Lambda response is at most 6 MB; keep room for the envelope. */
const MAX_RESPONSE_BYTES = 5 * 1024 * 1024;
const FILTER_BATCH = 1_000;

export interface SnapshotListResponse {
  sessions: RemoteSession[];
  count: number;
  source: 'snapshot';
  snapshot: { exported_at: string; key: string; s3_uri: string };
}

async function newestExport(bucket: string): Promise<{ key: string; exportedAt: string }> {
  let newest: { key: string; exportedAt: string } | undefined;
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: `${EXPORT_PREFIX}dt=` })) {
    for (const object of page.Contents ?? []) {
      const key = object.Key ?? '';
      const exportedAt = exportTimeOf(key);
      if (exportedAt && key.endsWith('.jsonl.gz') && (!newest || exportedAt > newest.exportedAt))
        newest = { key, exportedAt };
    }
  }
  if (!newest)
    throw new SnapshotNotFoundError(
      `No JSON Lines inventory export in s3://${bucket}/${EXPORT_PREFIX} yet: the schedule writes one, or invoke the export function`,
    );
  return newest;
}

/**
 * Answers the list from the newest inventory export in S3 instead of the PAM Core: for tenants
 * whose live list takes longer than API Gateway waits. The file is streamed and filtered as read.
 */
export async function readNewestSnapshot(filter: SessionFilter): Promise<SnapshotListResponse> {
  const bucket = inventoryBucket();
  try {
    return await readSnapshot(bucket, filter);
  } catch (error) {
    throw storageFailure(error, bucket);
  }
}

async function readSnapshot(bucket: string, filter: SessionFilter): Promise<SnapshotListResponse> {
  const { key, exportedAt } = await newestExport(bucket);
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const lines = createInterface({ input: (object.Body as Readable).pipe(createGunzip()), crlfDelay: Infinity });

  const sessions: RemoteSession[] = [];
  let responseBytes = 0;
  let unreadable = 0;
  let batch: RemoteSession[] = [];
  const keep = () => {
    for (const session of filterSessions(batch, filter)) {
      responseBytes += JSON.stringify(session).length + 1;
      if (responseBytes > MAX_RESPONSE_BYTES) {
        throw new ResponseTooLargeError(
          'More sessions match than one response can carry (5 MB): narrow the filters, e.g. active=true or a user',
        );
      }
      sessions.push(session);
    }
    batch = [];
  };
  try {
    for await (const line of lines) {
      if (line === '') continue;
      try {
        batch.push(JSON.parse(line) as RemoteSession);
      } catch {
        unreadable += 1;
      }
      if (batch.length >= FILTER_BATCH) keep();
    }
    keep();
  } finally {
    lines.close();
    (object.Body as Readable).destroy();
  }
  if (unreadable > 0) logger.warn('Skipped unreadable lines in the snapshot', { key, unreadable });
  return {
    sessions,
    count: sessions.length,
    source: 'snapshot',
    snapshot: { exported_at: exportedAt, key, s3_uri: `s3://${bucket}/${key}` },
  };
}
