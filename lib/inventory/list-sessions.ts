import { StorageUnavailableError } from '../aws/aws-errors.js';
import { ValidationError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { indexSettings } from '../core/settings.js';
import { streamRemoteSessionBlocks } from '../pam/pam-client.js';
import { PamApiError } from '../pam/pam-errors.js';
import { MalformedRecords } from '../sessions/malformed-records.js';
import type { RemoteSession } from '../sessions/remote-session.js';
import { decodeSessionValue, parseSessionBlock } from '../sessions/session-block.js';
import { DEFAULT_PAGE_SIZE, type ListQuery, passesFilter, type SessionFilter } from '../sessions/session-filter.js';
import type { IndexView } from './active-index.js';
import { exportTimeOf } from './export-key.js';
import { decodeCursor, encodeCursor, type PageCursor, SessionPage } from './session-page.js';

export interface LiveListResponse {
  sessions: RemoteSession[];
  count: number;
  /** The next page's cursor (`?cursor=`), null after the last page. */
  next: string | null;
  malformed: number;
  source: 'live';
}

export interface IndexListResponse {
  sessions: RemoteSession[];
  count: number;
  next: string | null;
  source: 'index';
  index: { listed_at: string; age_ms: number; history_size: number };
}

/**
 * A page of PAM's live list: records before the cursor's position are skipped unread (only their
 * boundaries are found), and the list is read no further than the page needs.
 */
async function livePage(
  filter: SessionFilter,
  limit: number,
  cursor: PageCursor | undefined,
  deadline: number,
): Promise<LiveListResponse> {
  const page = new SessionPage(limit);
  const malformed = new MalformedRecords();
  const start = cursor?.position ?? 0;
  let seen = 0;
  let next: number | undefined;
  scan: for await (const block of streamRemoteSessionBlocks({ deadline })) {
    const count = block.ranges.length / 2;
    if (seen + count <= start) {
      seen += count;
      continue;
    }
    const values = parseSessionBlock(block);
    for (let index = Math.max(0, start - seen); index < count; index += 1) {
      const result = decodeSessionValue(values[index]);
      if (!result.ok) {
        malformed.add([result.reason]);
        continue;
      }
      if (passesFilter(result.session, filter) && !page.add(result.session)) {
        next = seen + index;
        break scan;
      }
    }
    seen += count;
  }
  return {
    sessions: page.sessions,
    count: page.sessions.length,
    next: next === undefined ? null : encodeCursor({ source: 'live', position: next }, filter),
    malformed: malformed.count,
    source: 'live',
  };
}

/** A page of the index's active sessions (in session_id order), or undefined when the index cannot answer. */
async function indexPage(
  filter: SessionFilter,
  limit: number,
  cursor: PageCursor | undefined,
): Promise<IndexListResponse | undefined> {
  const [{ readActiveIndex, indexAgeMs, indexRefreshed }, { recentlyTerminated }] = await Promise.all([
    import('./active-index.js'),
    import('./termination-records.js'),
  ]);
  // What this deployment terminated since the index was written is not shown as active.
  const [reading, terminated] = await Promise.all([readActiveIndex(), recentlyTerminated(indexSettings().bucket)]);
  await indexRefreshed();
  // A cursor continues the index it began on, however old it has grown since; without one, only a fresh index answers.
  let view = reading.usable ? reading.view : undefined;
  if (!reading.usable) {
    if (!cursor) {
      logger.info('Listing live: the active-session index cannot answer', { reason: reading.reason });
      return undefined;
    }
    if (!reading.view) {
      throw new StorageUnavailableError(
        `the active-session index this cursor continues cannot be read now (${reading.reason}): start again without the cursor`,
      );
    }
    view = reading.view;
  }
  const { index } = view as IndexView;
  const page = new SessionPage(limit);
  let next: string | undefined;
  for (const session of index.active) {
    if (cursor?.after !== undefined && session.session_id <= cursor.after) continue;
    if (terminated.has(session.session_id) || !passesFilter(session, filter)) continue;
    if (!page.add(session)) {
      next = page.sessions.at(-1)?.session_id;
      break;
    }
  }
  return {
    sessions: page.sessions,
    count: page.sessions.length,
    next: next === undefined ? null : encodeCursor({ source: 'index', after: next }, filter),
    source: 'index',
    index: { listed_at: index.listed_at, age_ms: indexAgeMs(index), history_size: index.history_size },
  };
}

function slowListAdvice(error: unknown): unknown {
  if (!(error instanceof PamApiError) || error.kind !== 'timeout') return error;
  return new PamApiError(
    {
      kind: 'timeout',
      retryable: false,
      message: `${error.message}; the live list is too slow for this API: GET /sessions?active=true answers from the active-session index and GET /sessions?source=snapshot from the newest inventory export`,
    },
    { cause: error },
  );
}

/**
 * GET /sessions, a page at a time: the active sessions from the fresh index (active=true), the
 * newest export (source=snapshot), or else PAM's live list. The S3 client is loaded only for the
 * first two, to keep the live path's cold start small. A cursor continues the source it came from.
 */
export async function listSessions(query: ListQuery, deadline: number) {
  const { source, limit = DEFAULT_PAGE_SIZE, cursor: cursorText, ...filter } = query;
  const cursor = cursorText === undefined ? undefined : decodeCursor(cursorText, filter);
  if (cursor?.source === 'snapshot' && (cursor.key === undefined || exportTimeOf(cursor.key) === undefined)) {
    throw new ValidationError('cursor is not valid: pass back the "next" of the previous page unchanged');
  }
  const from = cursor?.source ?? source;
  if (from === 'snapshot') {
    const { readSnapshotPage } = await import('./inventory-snapshot.js');
    return readSnapshotPage(filter, limit, cursor);
  }
  if (from === 'index' || (from === undefined && filter.active === true)) {
    const page = await indexPage(filter, limit, cursor);
    if (page) return page;
  }
  try {
    return await livePage(filter, limit, cursor, deadline);
  } catch (error) {
    throw slowListAdvice(error);
  }
}
