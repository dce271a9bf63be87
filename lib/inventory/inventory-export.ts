import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { Upload } from '@aws-sdk/lib-storage';
import { publishAuditEvents } from '../aws/audit-trail.js';
import { storageFailure } from '../aws/aws-errors.js';
import { s3 } from '../aws/s3-client.js';
import { errorMessage } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { exportSettings, inventoryBucket } from '../core/settings.js';
import { type PamCallOptions, streamRemoteSessionBlocks } from '../pam/pam-client.js';
import { type ElementBlock, joinElementBlocks } from '../sessions/json-array-stream.js';
import { MalformedRecords } from '../sessions/malformed-records.js';
import { BlockEncoderPool } from './block-encoder-pool.js';
import type { EncodedBlock } from './export-block.js';
import { type ExportFormat, exportKey } from './export-key.js';
import { recordExport } from './inventory-metrics.js';

const INVENTORY_EXPORTED = 'PAM Session Inventory Exported';
const PARTS_IN_FLIGHT = 2;
/**
 * Raw list bytes per job: large enough to amortise the hand-over to a worker, small enough that
 * a job's parsed records die young in whichever heap encodes them (256 KiB makes about 1.5 MB).
 */
const JOB_BYTES = 256 * 1024;
/** Encoded blocks waiting their turn to be written: they are compressed, so a few cost little. */
const BLOCKS_IN_FLIGHT = 6;

export interface ExportSummary {
  s3_uri: string;
  bucket: string;
  key: string;
  format: ExportFormat;
  exported_at: string;
  duration_ms: number;
  counts: { total: number; active: number; malformed: number; by_protocol: Record<string, number> };
}

/**
 * Streams the whole session list from PAM into one gzip-compressed JSON Lines (or CSV) object in
 * S3, through a multipart upload: nothing is held whole in memory. This thread finds the records'
 * boundaries; worker threads (and this one, when they are all busy) decode, serialise and
 * compress jobs of them, which are written in order. If anything fails, the multipart upload is aborted, so no partial object is
 * ever left looking complete. Publishes and logs a summary when done.
 */
export async function exportInventory(
  options: PamCallOptions & { now?: Date; workerUrl: URL },
): Promise<ExportSummary> {
  const bucket = inventoryBucket();
  const { format, gzipLevel: level, partSize, workers } = exportSettings();
  const startedAt = options.now ?? new Date();
  const key = exportKey(startedAt, format);
  const body = new PassThrough();
  const upload = new Upload({
    client: s3,
    params: {
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: format === 'jsonl' ? 'application/x-ndjson' : 'text/csv',
    },
    partSize,
    queueSize: PARTS_IN_FLIGHT,
    leavePartsOnError: false,
  });
  const uploaded = upload.done();
  // An upload that fails while the list is still streaming stops the writer instead of leaving it waiting.
  uploaded.catch((error: unknown) =>
    body.destroy(error instanceof Error ? error : new Error(String(error), { cause: error })),
  );

  const pool = new BlockEncoderPool(options.workerUrl, workers);
  const inFlight: Array<Promise<EncodedBlock>> = [];
  const counts: ExportSummary['counts'] = { total: 0, active: 0, malformed: 0, by_protocol: {} };
  const malformed = new MalformedRecords();
  let bytesWritten = 0;

  const writeOldest = async () => {
    const block = await inFlight.shift();
    if (!block) return;
    counts.total += block.total;
    counts.active += block.active;
    for (const [protocol, count] of Object.entries(block.byProtocol))
      counts.by_protocol[protocol] = (counts.by_protocol[protocol] ?? 0) + count;
    counts.malformed = malformed.add(block.malformed);
    bytesWritten += block.compressed.byteLength;
    if (!body.write(block.compressed)) await once(body, 'drain');
  };
  const dispatch = async (blocks: ElementBlock[], header: boolean) => {
    const encoded = pool.encode({ ...joinElementBlocks(blocks), format, level, header });
    // Settled in order below; a failure surfaces when this block's turn comes.
    encoded.catch(() => undefined);
    inFlight.push(encoded);
    while (inFlight.length > BLOCKS_IN_FLIGHT) await writeOldest();
  };

  try {
    // The first member carries the CSV header, and makes even an empty export valid gzip.
    await dispatch([], true);
    const deadline = options.deadline ?? Date.now() + 15 * 60_000;
    let pending: ElementBlock[] = [];
    let pendingBytes = 0;
    for await (const block of streamRemoteSessionBlocks({
      deadline,
      timeoutMs: Math.max(1, Math.floor(deadline - Date.now())),
    })) {
      pending.push(block);
      pendingBytes += block.bytes.length;
      if (pendingBytes >= JOB_BYTES) {
        await dispatch(pending, false);
        pending = [];
        pendingBytes = 0;
      }
    }
    if (pending.length > 0) await dispatch(pending, false);
    while (inFlight.length > 0) await writeOldest();
    body.end();
    await uploaded;
  } catch (error) {
    // Failing the body makes the upload abort its multipart upload (leavePartsOnError: false) before it settles.
    body.destroy(error instanceof Error ? error : new Error(String(error), { cause: error }));
    await uploaded.catch((uploadError: unknown) => {
      if (uploadError !== error) {
        logger.warn('The upload ended with another error; the bucket lifecycle removes incomplete uploads', {
          reason: errorMessage(uploadError),
        });
      }
    });
    const failure = storageFailure(error, bucket);
    logger.error('Inventory export failed; nothing was written', {
      key,
      code: failure.code,
      reason: failure.message,
      counts,
    });
    throw failure;
  } finally {
    await pool.close();
  }
  logger.debug("Blocks encoded on the function's own thread while the workers were busy", {
    blocks: pool.encodedByCaller,
  });

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
  recordExport({ durationMs: summary.duration_ms, bytes: bytesWritten, sessions: counts.total });
  const audit = await publishAuditEvents([{ detailType: INVENTORY_EXPORTED, detail: { ...summary } }]);
  if (audit.failed > 0) logger.error('The export summary event could not be published', { key });
  return summary;
}
