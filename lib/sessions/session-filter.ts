import * as z from 'zod/mini';
import { ValidationError } from '../core/errors.js';
import { issuesMessage } from '../core/zod-issues.js';
import type { RemoteSession } from './remote-session.js';

const value = z
  .string({ error: 'must be text' })
  .check(z.trim(), z.minLength(1, 'must not be empty'), z.maxLength(256, 'must be at most 256 characters'));

const listQuerySchema = z.partial(
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
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `unknown filter ${issue.keys.map((key) => `"${key}"`).join(', ')}; use source, active, user, origin_ip, device, protocol or credential`
          : undefined,
    },
  ),
);

export type ListQuery = z.output<typeof listQuerySchema>;
export type SessionFilter = Omit<ListQuery, 'source'>;

/** Validates the list's query string: `source` and the filters, all optional; unknown ones are refused rather than ignored. */
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
export function filterSessions(sessions: RemoteSession[], filter: SessionFilter): RemoteSession[] {
  return sessions.filter(
    (session) =>
      (filter.active === undefined || session.active === filter.active) &&
      (filter.user === undefined || session.user === filter.user) &&
      (filter.origin_ip === undefined || session.origin_ip === filter.origin_ip) &&
      (filter.protocol === undefined || session.protocol === filter.protocol) &&
      (filter.credential === undefined || session.credential === filter.credential) &&
      (filter.device === undefined || session.device === filter.device || session.device_host === filter.device),
  );
}
