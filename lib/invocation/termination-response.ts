import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ContainmentOutcome, ContainmentReport } from '../containment/containment-outcome.js';
import { ValidationError } from '../core/errors.js';
import { PamApiError } from '../pam/pam-errors.js';
import type { Outcome } from '../termination/outcome.js';
import {
  ProtectedSessionError,
  SessionNotFoundError,
  TerminationIncompleteError,
} from '../termination/termination-errors.js';
import type { TerminationReport } from '../termination/termination-report.js';
import { jsonResponse } from './http-response.js';
import type { TerminationInput } from './termination-input.js';

export interface SingleTerminationResponse {
  session_id: string;
  status: 'terminated' | 'already_ended' | 'would_terminate';
  resolved_from: Outcome['resolved_from'];
  index_age_ms: number | null;
  event_age_ms: number;
  /** For `terminated`: whether PAM shows the session ended when looked up after the DELETE (null: it could not tell). */
  confirmed?: boolean | null;
  containment?: PublishedContainment;
}

/** The containment as callers see it: each outcome without the error object behind it. */
export type PublishedContainment = Omit<ContainmentReport, 'outcomes'> & {
  outcomes: Array<Omit<ContainmentOutcome, 'error'>>;
};

function publishedContainment(containment: ContainmentReport | undefined): { containment?: PublishedContainment } {
  if (!containment) return {};
  return {
    containment: { ...containment, outcomes: containment.outcomes.map(({ error: _error, ...outcome }) => outcome) },
  };
}

/** A response carries at most this many outcomes; the logs and audit trail get them all. */
export const MAX_OUTCOMES_IN_RESPONSE = 1_000;
/** Lambda refuses a response over 6 MB; outcomes with very long fields are cut sooner to stay under this. */
const MAX_RESPONSE_BYTES = 5 * 1024 * 1024;

/** The report as callers see it: each outcome without the error object behind it, and at most MAX_OUTCOMES_IN_RESPONSE. */
export type PublishedReport = Omit<TerminationReport, 'outcomes'> & {
  outcomes: Array<Omit<Outcome, 'error'>>;
  containment?: PublishedContainment;
  /** Set when outcomes were left out of this response. */
  outcomes_truncated?: { total: number; shown: number; note: string };
};

function published(report: TerminationReport): PublishedReport {
  const total = report.outcomes.length;
  const all = report.outcomes.map(({ error: _error, ...outcome }) => outcome);
  let shown = Math.min(total, MAX_OUTCOMES_IN_RESPONSE);
  // Counted as the HTTP API sends it: the report as JSON inside a JSON string.
  const size = (count: number) =>
    Buffer.byteLength(JSON.stringify(JSON.stringify({ ...report, outcomes: all.slice(0, count) })));
  while (shown > 0 && size(shown) > MAX_RESPONSE_BYTES) shown = Math.floor(shown / 2);
  if (shown === total) return { ...report, outcomes: all };
  return {
    ...report,
    outcomes: all.slice(0, shown),
    outcomes_truncated: {
      total,
      shown,
      note: 'summary counts every outcome; the logs and the audit trail hold each one',
    },
  };
}

/** One session asked for by id: its outcome as {session_id, status}, or the error explaining why not. */
function singleResponse(
  report: TerminationReport,
  sessionId: string,
  containment: ContainmentReport | undefined,
): SingleTerminationResponse {
  const outcome = report.outcomes.find((candidate) => candidate.session_id === sessionId);
  switch (outcome?.outcome) {
    case 'terminated':
    case 'already_ended':
    case 'would_terminate':
      return {
        session_id: sessionId,
        status: outcome.outcome,
        resolved_from: outcome.resolved_from,
        index_age_ms: outcome.index_age_ms,
        event_age_ms: outcome.event_age_ms,
        ...(outcome.confirmed !== undefined ? { confirmed: outcome.confirmed } : {}),
        ...publishedContainment(containment),
      };
    case 'skipped_protected':
      throw new ProtectedSessionError(`Session ${sessionId} was not terminated: ${outcome.message}`);
    default:
      throw (
        outcome?.error ??
        new PamApiError({ kind: 'rejected', retryable: false, message: `Session ${sessionId} was not terminated` })
      );
  }
}

/**
 * Maps the report to what each caller expects. For EventBridge, throws after every target was
 * attempted when any target failed for a reason other than an unknown id (PAM's errors, the secret,
 * the configuration), or the audit was not written, so Lambda's retries and the on-failure
 * destination take over (what succeeded is not undone; a retry finds it ended).
 */
export function terminationResponse(
  input: TerminationInput,
  report: TerminationReport,
  containment?: ContainmentReport,
): APIGatewayProxyStructuredResultV2 | SingleTerminationResponse | PublishedReport {
  if (input.kind === 'single') {
    const response = singleResponse(report, input.request.sessionIds[0] ?? '', containment);
    return input.source === 'http' ? jsonResponse(200, response) : response;
  }
  const response = { ...published(report), ...publishedContainment(containment) };
  if (input.source === 'http') return jsonResponse(200, response);
  const dropFailures = report.outcomes.flatMap(({ error }) =>
    error && !(error instanceof SessionNotFoundError || error instanceof ValidationError) ? [error] : [],
  );
  // Their outcome's message says what an operator must do (grant access, write permission…).
  const containFailures = (containment?.outcomes ?? []).flatMap(({ outcome, error, message }) =>
    outcome === 'failed' && error ? [{ message: message ?? error.message }] : [],
  );
  const auditFailed = report.audit.failed + (containment?.audit.failed ?? 0);
  if (dropFailures.length > 0 || containFailures.length > 0 || auditFailed > 0 || report.incomplete) {
    const unfinished = report.incomplete ? `; ${report.incomplete.message}` : '';
    const failures = [...dropFailures, ...containFailures];
    const contained = containment ? `, ${containFailures.length} credential containment(s) failed` : '';
    throw new TerminationIncompleteError(
      `${dropFailures.length} drop(s) failed and ${auditFailed} audit event(s) were not published${contained}${unfinished}; failed: ${failures.map((error) => error.message).join(' | ')}`,
    );
  }
  return response;
}
