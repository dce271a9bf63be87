import type * as z from 'zod/mini';

export interface IssueWording {
  /** Words put before an issue's message, from where it is (default: none; messages name their field). */
  subject?: (path: PropertyKey[]) => string;
  /** Only the first issue: the one to fix first, when later ones follow from it. */
  firstOnly?: boolean;
}

/** A zod failure as one message a caller can act on: each distinct problem once, joined with "; ". */
export function issuesMessage(error: z.core.$ZodError, wording: IssueWording = {}): string {
  const issues = wording.firstOnly ? error.issues.slice(0, 1) : error.issues;
  const subject = wording.subject ?? (() => '');
  return [...new Set(issues.map((issue) => `${subject(issue.path)}${issue.message}`))].join('; ');
}
