import type { ElementBlock } from './json-array-stream.js';
import { normaliseRemoteSession, type RemoteSession } from './remote-session.js';

export interface SessionBatch {
  sessions: RemoteSession[];
  /** Why each record of this batch that could not be read was left out. */
  malformed: string[];
}

/**
 * Parses a block of `remote_sessions` elements and normalises each record: the one path every
 * session takes, whether listed, resolved for termination or exported. One JSON.parse reads the
 * whole block; if any element is not valid JSON, they are parsed one by one so only it is lost.
 */
export function decodeSessionBlock({ bytes, ranges }: ElementBlock): SessionBatch {
  const batch: SessionBatch = { sessions: [], malformed: [] };
  if (ranges.length === 0) return batch;
  let values: unknown[];
  try {
    values = JSON.parse(bytes.toString('utf8')) as unknown[];
  } catch {
    values = [];
    for (let i = 0; i < ranges.length; i += 2) {
      try {
        values.push(JSON.parse(bytes.toString('utf8', ranges[i], ranges[i + 1])));
      } catch {
        batch.malformed.push('record: not valid JSON');
      }
    }
  }
  for (const value of values) {
    const result = normaliseRemoteSession(value);
    if (result.ok) batch.sessions.push(result.session);
    else batch.malformed.push(result.reason);
  }
  return batch;
}
