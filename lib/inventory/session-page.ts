import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { ValidationError } from '../core/errors.js';
import type { RemoteSession } from '../sessions/remote-session.js';
import type { SessionFilter } from '../sessions/session-filter.js';
import { ResponseTooLargeError } from './inventory-errors.js';

/** Lambda refuses a response over 6 MB (6,291,456 bytes); the sessions of a page stay under this. */
export const MAX_PAGE_BYTES = 5 * 1024 * 1024;

export type ListSource = 'live' | 'index' | 'snapshot';

/** Where the next page starts: a position in the source, or (for the index) the last session_id given. */
export interface PageCursor {
  source: ListSource;
  /** Records of the live list or lines of the snapshot already read. */
  position?: number;
  /** The index is in session_id order: the next page starts after this id, whichever index is current. */
  after?: string;
  /** The snapshot's key: every page reads the same export. */
  key?: string;
}

const cursorSchema = z.object({
  v: z.literal(1),
  f: z.string(),
  source: z.enum(['live', 'index', 'snapshot']),
  position: z.optional(z.number().check(z.int(), z.nonnegative())),
  after: z.optional(z.string()),
  key: z.optional(z.string()),
});

/** A short digest of the filters: a cursor continues only the query it was made for. */
function fingerprint(filter: SessionFilter): string {
  const canonical = Object.entries(filter)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url').slice(0, 16);
}

export function encodeCursor(cursor: PageCursor, filter: SessionFilter): string {
  return Buffer.from(JSON.stringify({ v: 1, f: fingerprint(filter), ...cursor })).toString('base64url');
}

export function decodeCursor(text: string, filter: SessionFilter): PageCursor {
  let parsed: ReturnType<typeof cursorSchema.safeParse> | undefined;
  try {
    parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) {
    throw new ValidationError('cursor is not valid: pass back the "next" of the previous page unchanged');
  }
  if (parsed.data.f !== fingerprint(filter)) {
    throw new ValidationError('cursor belongs to a query with other filters: repeat the same filters with it');
  }
  const { v: _version, f: _filter, ...cursor } = parsed.data;
  return cursor;
}

/** Collects one page: at most `limit` sessions and MAX_PAGE_BYTES of them. */
export class SessionPage {
  readonly sessions: RemoteSession[] = [];
  private bytes = 0;

  constructor(private readonly limit: number) {}

  /** Adds the session, or answers false when the page is full and it belongs to the next one. */
  add(session: RemoteSession): boolean {
    // Counted as it ends up in the HTTP API's response: JSON inside the body, itself a JSON string.
    const size = Buffer.byteLength(JSON.stringify(JSON.stringify(session))) - 1;
    if (this.sessions.length >= this.limit || this.bytes + size > MAX_PAGE_BYTES) {
      if (this.sessions.length === 0) {
        throw new ResponseTooLargeError(`Session ${session.session_id} alone is larger than one response can carry`);
      }
      return false;
    }
    this.bytes += size;
    this.sessions.push(session);
    return true;
  }
}
