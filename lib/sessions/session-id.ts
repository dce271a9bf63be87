import * as z from 'zod/mini';
import { ValidationError } from '../core/errors.js';
import { issuesMessage } from '../core/zod-issues.js';

/** PAM's session_id is a 40-hex hash today; accept a little more, never anything that could change the URL. */
export const sessionIdSchema = z
  .string({ error: 'session_id must be a string' })
  .check(
    z.minLength(1, 'session_id must not be empty'),
    z.maxLength(128, 'session_id must be at most 128 characters'),
    z.regex(/^[A-Za-z0-9_-]+$/, 'session_id may contain only letters, digits, "_" and "-"'),
  );

export function parseSessionId(value: unknown): string {
  const result = sessionIdSchema.safeParse(value);
  // The first problem is the one to fix; an empty id is not also "badly formed".
  if (!result.success) throw new ValidationError(issuesMessage(result.error, { firstOnly: true }));
  return result.data;
}
