import type { ElementBlock } from './json-array-stream.js';
import { type NormaliseResult, normaliseRemoteSession, type RemoteSession } from './remote-session.js';

export interface SessionBatch {
  sessions: RemoteSession[];
  /** Why each record of this batch that could not be read was left out. */
  malformed: string[];
}

/** Stands, in parseSessionBlock's answer, for an element that is not valid JSON. */
export const NOT_JSON = Symbol('not valid JSON');

/**
 * The block's elements as JSON values, one per element. One JSON.parse reads the whole block; if
 * any element is not valid JSON, they are parsed one by one so only it is lost (NOT_JSON in its place).
 */
export function parseSessionBlock({ bytes, ranges }: ElementBlock): unknown[] {
  if (ranges.length === 0) return [];
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown[];
  } catch {
    const values: unknown[] = [];
    for (let i = 0; i < ranges.length; i += 2) {
      try {
        values.push(JSON.parse(bytes.toString('utf8', ranges[i], ranges[i + 1])));
      } catch {
        values.push(NOT_JSON);
      }
    }
    return values;
  }
}

/** One element of a block: the session, or why it was left out. */
export function decodeSessionValue(value: unknown): NormaliseResult {
  return value === NOT_JSON ? { ok: false, reason: 'record: not valid JSON' } : normaliseRemoteSession(value);
}

/**
 * Parses a block of `remote_sessions` elements and normalises each record: the one path every
 * session takes, whether listed, resolved for termination, indexed or exported.
 */
export function decodeSessionBlock(block: ElementBlock): SessionBatch {
  const batch: SessionBatch = { sessions: [], malformed: [] };
  for (const value of parseSessionBlock(block)) {
    const result = decodeSessionValue(value);
    if (result.ok) batch.sessions.push(result.session);
    else batch.malformed.push(result.reason);
  }
  return batch;
}
