import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { storageFailure } from '../aws/aws-errors.js';
import { s3 } from '../aws/s3-client.js';
import { logger } from '../core/logger.js';
import { inventoryBucket } from '../core/settings.js';
import type { RemoteSession } from '../sessions/remote-session.js';
import { passesFilter, type SessionFilter } from '../sessions/session-filter.js';
import { EXPORT_PREFIX, exportTimeOf } from './export-key.js';
import { SnapshotNotFoundError } from './inventory-errors.js';
import { encodeCursor, type PageCursor, SessionPage } from './session-page.js';

export interface SnapshotListResponse {
  sessions: RemoteSession[];
  count: number;
  next: string | null;
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
 * A page of the list from the newest inventory export in S3 instead of the PAM Core: for tenants
 * whose live list takes longer than API Gateway waits. The file is streamed and filtered as read;
 * a cursor keeps reading the same export where the previous page stopped.
 */
export async function readSnapshotPage(
  filter: SessionFilter,
  limit: number,
  cursor: PageCursor | undefined,
): Promise<SnapshotListResponse> {
  const bucket = inventoryBucket();
  try {
    return await readSnapshot(bucket, filter, limit, cursor);
  } catch (error) {
    throw storageFailure(error, bucket);
  }
}

async function readSnapshot(
  bucket: string,
  filter: SessionFilter,
  limit: number,
  cursor: PageCursor | undefined,
): Promise<SnapshotListResponse> {
  const { key, exportedAt } = cursor?.key
    ? { key: cursor.key, exportedAt: exportTimeOf(cursor.key) ?? '' }
    : await newestExport(bucket);
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const lines = createInterface({ input: (object.Body as Readable).pipe(createGunzip()), crlfDelay: Infinity });

  const page = new SessionPage(limit);
  const start = cursor?.position ?? 0;
  let position = 0;
  let next: number | undefined;
  let unreadable = 0;
  try {
    for await (const line of lines) {
      position += 1;
      if (position <= start || line === '') continue;
      let session: RemoteSession;
      try {
        session = JSON.parse(line) as RemoteSession;
      } catch {
        unreadable += 1;
        continue;
      }
      if (!passesFilter(session, filter)) continue;
      if (!page.add(session)) {
        next = position - 1;
        break;
      }
    }
  } finally {
    lines.close();
    (object.Body as Readable).destroy();
  }
  if (unreadable > 0) logger.warn('Skipped unreadable lines in the snapshot', { key, unreadable });
  return {
    sessions: page.sessions,
    count: page.sessions.length,
    next: next === undefined ? null : encodeCursor({ source: 'snapshot', position: next, key }, filter),
    source: 'snapshot',
    snapshot: { exported_at: exportedAt, key, s3_uri: `s3://${bucket}/${key}` },
  };
}
