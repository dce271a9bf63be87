import { PamApiError } from '../core/errors.js';
import { listRemoteSessions } from '../pam/pam-client.js';
import type { RemoteSession } from '../sessions/remote-session.js';
import { filterSessions, type ListQuery } from '../sessions/session-filter.js';

export interface LiveListResponse {
  sessions: RemoteSession[];
  count: number;
  malformed: number;
  source: 'live';
}

/**
 * GET /sessions: live from the PAM Core, or from the newest export with source=snapshot (its S3
 * client is loaded only then, to keep the live path's cold start small).
 */
export async function listSessions(query: ListQuery, deadline: number) {
  const { source, ...filter } = query;
  if (source === 'snapshot') {
    const { readNewestSnapshot } = await import('./inventory-snapshot.js');
    return readNewestSnapshot(filter);
  }
  try {
    const { sessions, malformed } = await listRemoteSessions({ deadline });
    const selected = filterSessions(sessions, filter);
    return { sessions: selected, count: selected.length, malformed, source: 'live' } satisfies LiveListResponse;
  } catch (error) {
    if (error instanceof PamApiError && error.kind === 'timeout') {
      throw new PamApiError({
        kind: 'timeout',
        retryable: false,
        message: `${error.message}; the live list is too slow for this API: GET /sessions?source=snapshot answers from the newest inventory export`,
      });
    }
    throw error;
  }
}
