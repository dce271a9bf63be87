import * as z from 'zod/mini';
import { ValidationError } from '../core/errors.js';
import { issuesMessage } from '../core/zod-issues.js';
import type { RemoteSession } from './remote-session.js';

const value = z
  .string({ error: 'must be text' })
  // The length as sent, before trimming: what docs/openapi.yaml's maxLength says.
  .check(z.maxLength(256, 'must be at most 256 characters'), z.trim(), z.minLength(1, 'must not be empty'));

/** Sessions per page of `GET /sessions`: the default, and the most one page may ask for. */
export const DEFAULT_PAGE_SIZE = 1_000;
export const MAX_PAGE_SIZE = 5_000;

export const listQuerySchema = z.partial(
  z.strictObject(
    {
      source: z.enum(['live', 'snapshot'], { error: 'must be "live" or "snapshot"' }),
      active: z.pipe(
        z.enum(['true', 'false'], { error: 'must be "true" or "false"' }),
        z.transform((flag) => flag === 'true'),
      ),
      user: value,
      origin_ip: value,
      device: value,
      protocol: value,
      credential: value,
      limit: z.pipe(
        z.string().check(z.regex(/^\d{1,4}$/, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`)),
        z.pipe(
          z.transform(Number),
          z.number().check(z.gte(1, 'must be at least 1'), z.lte(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`)),
        ),
      ),
      cursor: z.string({ error: 'must be text' }).check(z.maxLength(2048, 'must be at most 2048 characters')),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `unknown filter ${issue.keys.map((key) => `"${key}"`).join(', ')}; use source, active, user, origin_ip, device, protocol, credential, limit or cursor`
          : undefined,
    },
  ),
);

export type ListQuery = z.output<typeof listQuerySchema>;
export type SessionFilter = Omit<ListQuery, 'source' | 'limit' | 'cursor'>;

/** Validates the list's query string: `source`, the filters and the page, all optional; unknown ones are refused, not ignored. */
export function parseListQuery(query: Record<string, string | undefined> | null | undefined): ListQuery {
  const result = listQuerySchema.safeParse(query ?? {});
  if (!result.success) {
    throw new ValidationError(
      issuesMessage(result.error, { subject: (path) => (path.length ? `${path.join('.')} ` : '') }),
    );
  }
  return result.data;
}

/** Exact-match filtering; `device` matches the whole "host:port" or the host alone. */
export function passesFilter(session: RemoteSession, filter: SessionFilter): boolean {
  return (
    (filter.active === undefined || session.active === filter.active) &&
    (filter.user === undefined || session.user === filter.user) &&
    (filter.origin_ip === undefined || session.origin_ip === filter.origin_ip) &&
    (filter.protocol === undefined || session.protocol === filter.protocol) &&
    (filter.credential === undefined || session.credential === filter.credential) &&
    (filter.device === undefined || session.device === filter.device || session.device_host === filter.device)
  );
}

export function filterSessions(sessions: RemoteSession[], filter: SessionFilter): RemoteSession[] {
  return sessions.filter((session) => passesFilter(session, filter));
}
