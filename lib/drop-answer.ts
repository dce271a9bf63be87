import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { PamApiError, ProtectedSessionError, ResponderError } from './errors.js';
import { jsonResponse } from './http-api.js';
import type { DropInput } from './drop-request.js';
import type { TerminationResult } from './session-responder.js';

export interface SingleDropAnswer {
  session_id: string;
  status: 'terminated' | 'already_ended' | 'would_terminate';
}

/** One session asked for by id: its outcome as {session_id, status}, or the error explaining why not. */
function answerSingle(result: TerminationResult, sessionId: string): SingleDropAnswer {
  const outcome = result.report.outcomes.find((candidate) => candidate.session_id === sessionId);
  switch (outcome?.outcome) {
    case 'terminated':
    case 'already_ended':
    case 'would_terminate':
      return { session_id: sessionId, status: outcome.outcome };
    case 'skipped_protected':
      throw new ProtectedSessionError(`Session ${sessionId} was not terminated: ${outcome.message}`);
    default: {
      const error = result.errors.get(sessionId);
      throw error ?? new PamApiError({ kind: 'rejected', retryable: false, message: `Session ${sessionId} was not terminated` });
    }
  }
}

/** A drop that truly failed (PAM refused, timed out, unreachable) or an audit trail that could not be written. */
export class TerminationIncompleteError extends ResponderError {
  override readonly name = 'TerminationIncompleteError';
  readonly code = 'termination_incomplete';
  readonly httpStatus = 502;
}

/**
 * Maps the result to what each caller expects. For EventBridge, throws after every target was
 * attempted when a drop truly failed or the audit was not written, so Lambda's retries and the
 * on-failure destination take over (what succeeded is not undone; a retry finds it ended).
 */
export function answerDrop(input: DropInput, result: TerminationResult): APIGatewayProxyStructuredResultV2 | SingleDropAnswer | TerminationResult['report'] {
  if (input.kind === 'single') {
    const answer = answerSingle(result, input.request.sessionIds[0] ?? '');
    return input.source === 'http' ? jsonResponse(200, answer) : answer;
  }
  if (input.source === 'http') return jsonResponse(200, result.report);
  const dropFailures = [...result.errors.values()].filter((error) => error instanceof PamApiError);
  if (dropFailures.length > 0 || result.report.audit.failed > 0) {
    throw new TerminationIncompleteError(
      `${dropFailures.length} drop(s) failed and ${result.report.audit.failed} audit event(s) were not published; failed: ${dropFailures.map((error) => error.message).join(' | ')}`,
    );
  }
  return result.report;
}
