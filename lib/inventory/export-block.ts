import { gzipSync } from 'node:zlib';
import { decodeSessionBlock } from '../sessions/session-block.js';
import type { ExportFormat } from './export-key.js';
import { serializeSessions } from './session-serializer.js';

/** Raw records to turn into one gzip member of the export. */
export interface BlockJob {
  bytes: Uint8Array;
  ranges: Uint32Array;
  format: ExportFormat;
  level: number;
  /** CSV only: start with the header row (the export's first block). */
  header: boolean;
}

export interface EncodedBlock {
  /** One complete gzip member; the export is these members, concatenated in order (RFC 1952). */
  compressed: Uint8Array;
  total: number;
  active: number;
  byProtocol: Record<string, number>;
  malformed: string[];
}

/** Decodes (the same path as every listed session), counts, serialises and compresses one block. */
export function encodeBlock(job: BlockJob): EncodedBlock {
  const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
  const { sessions, malformed } = decodeSessionBlock({ bytes, ranges: job.ranges });
  const byProtocol: Record<string, number> = {};
  let active = 0;
  for (const session of sessions) {
    if (session.active) active += 1;
    const protocol = session.protocol ?? 'unknown';
    byProtocol[protocol] = (byProtocol[protocol] ?? 0) + 1;
  }
  const compressed = gzipSync(serializeSessions(sessions, job.format, job.header), { level: job.level });
  return { compressed, total: sessions.length, active, byProtocol, malformed };
}
