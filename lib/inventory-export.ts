import { PassThrough } from 'node:stream';
import { Upload } from '@aws-sdk/lib-storage';
import { publishAuditEvents } from './audit-trail.js';
import { BlockGzipWriter } from './block-gzip.js';
import { ConfigurationError } from './errors.js';
import { exportKey, type ExportFormat } from './export-key.js';
import { logger } from './logger.js';
import { streamRemoteSessions, type PamCallOptions } from './pam-client.js';
import { storageFailure } from './s3-errors.js';
import { s3 } from './s3-client.js';
import { createSessionSerializer } from './session-serializer.js';

export const INVENTORY_EXPORTED = 'PAM Session Inventory Exported';
const PARTS_IN_FLIGHT = 2;
const MALFORMED_REASONS_LOGGED = 10;

export interface ExportSummary {
  s3_uri: string;
  bucket: string;
  key: string;
  format: ExportFormat;
  exported_at: string;
  duration_ms: number;
  counts: { total: number; active: number; malformed: number; by_protocol: Record<string, number> };
}

function exportSettings() {
  const bucket = process.env.EXPORT_BUCKET;
  if (!bucket) throw new ConfigurationError('EXPORT_BUCKET is not set: name the bucket the inventory is written to');
  const format = (process.env.EXPORT_FORMAT ?? 'jsonl').toLowerCase();
  if (format !== 'jsonl' && format !== 'csv') throw new ConfigurationError(`EXPORT_FORMAT must be "jsonl" or "csv" (it is "${process.env.EXPORT_FORMAT}")`);
  const level = Number(process.env.EXPORT_GZIP_LEVEL ?? 3);
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new ConfigurationError('EXPORT_GZIP_LEVEL must be a whole number from 1 to 9');
  // S3 takes parts of 5 MiB at the least; bigger parts mean fewer requests and more memory.
  const partMiB = Number(process.env.EXPORT_PART_SIZE_MIB ?? 8);
  if (!Number.isInteger(partMiB) || partMiB < 5 || partMiB > 64) throw new ConfigurationError('EXPORT_PART_SIZE_MIB must be a whole number from 5 to 64');
  return { bucket, format: format as ExportFormat, level, partSize: partMiB * 1024 * 1024 };
}

/**
 * Streams the whole session list from PAM into one gzip-compressed JSON Lines (or CSV) object in
 * S3, through a multipart upload: nothing is held whole in memory. If the list breaks off, the
 * upload is aborted, so no partial object is ever left looking complete. Publishes and logs a
 * summary when done.
 */
export async function exportInventory(options: PamCallOptions & { now?: Date } = {}): Promise<ExportSummary> {
  const { bucket, format, level, partSize } = exportSettings();
  const startedAt = options.now ?? new Date();
  const key = exportKey(startedAt, format);
  const body = new PassThrough();
  const gzip = new BlockGzipWriter(body, level);
  const upload = new Upload({
    client: s3,
    params: { Bucket: bucket, Key: key, Body: body, ContentType: format === 'jsonl' ? 'application/x-ndjson' : 'text/csv' },
    partSize,
    queueSize: PARTS_IN_FLIGHT,
    leavePartsOnError: false,
  });
  const uploaded = upload.done();
  // An upload that fails while the list is still streaming stops the writer instead of leaving it waiting.
  uploaded.catch((error: unknown) => body.destroy(error instanceof Error ? error : new Error(String(error))));

  const serialize = createSessionSerializer(format);
  const counts: ExportSummary['counts'] = { total: 0, active: 0, malformed: 0, by_protocol: {} };
  try {
    await gzip.write(serialize([]));
    const deadline = options.deadline ?? Date.now() + 15 * 60_000;
    for await (const batch of streamRemoteSessions({ deadline, timeoutMs: Math.max(1, deadline - Date.now()) })) {
      for (const session of batch.sessions) {
        counts.total += 1;
        if (session.active) counts.active += 1;
        const protocol = session.protocol ?? 'unknown';
        counts.by_protocol[protocol] = (counts.by_protocol[protocol] ?? 0) + 1;
      }
      for (const reason of batch.malformed) {
        counts.malformed += 1;
        if (counts.malformed <= MALFORMED_REASONS_LOGGED) logger.warn('Skipped a malformed session record', { reason });
      }
      await gzip.write(serialize(batch.sessions));
    }
    await gzip.end();
    await uploaded;
  } catch (error) {
    // Failing the body makes the upload abort its multipart upload (leavePartsOnError: false) before it settles.
    body.destroy(error instanceof Error ? error : new Error(String(error)));
    await uploaded.catch((uploadError: unknown) => {
      if (uploadError !== error) {
        logger.warn('The upload ended with another error; the bucket lifecycle removes incomplete uploads', {
          reason: uploadError instanceof Error ? uploadError.message : String(uploadError),
        });
      }
    });
    const failure = storageFailure(error, bucket);
    logger.error('Inventory export failed; nothing was written', { key, code: failure.code, reason: failure.message, counts });
    throw failure;
  }

  const summary: ExportSummary = {
    s3_uri: `s3://${bucket}/${key}`,
    bucket,
    key,
    format,
    exported_at: startedAt.toISOString(),
    duration_ms: Date.now() - startedAt.getTime(),
    counts,
  };
  logger.info('Inventory exported', { ...summary });
  const audit = await publishAuditEvents([{ detailType: INVENTORY_EXPORTED, detail: { ...summary } }]);
  if (audit.failed > 0) logger.error('The export summary event could not be published', { key });
  return summary;
}
