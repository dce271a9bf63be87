import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { ValidationError } from '../core/errors.js';
import { issuesMessage } from '../core/zod-issues.js';
import type { BlockedRequest } from '../termination/blocked-requests.js';
import type { TerminationRequest } from '../termination/termination-request.js';
import type { HttpEvent } from './http-response.js';
import { parseJsonBody } from './termination-input.js';

const ROUTE = 'POST /sessions/terminate/confirm';

export const confirmationSchema = z.strictObject(
  {
    trigger_id: z
      .string({ error: 'trigger_id must be a string' })
      .check(z.regex(/^[A-Za-z0-9._:@/=+-]{1,128}$/, "trigger_id must be the blocked request's trigger id")),
    reason: z
      .string({ error: 'reason must be a string' })
      .check(
        z.maxLength(1024, 'reason must be at most 1024 characters'),
        z.trim(),
        z.minLength(1, 'reason must not be empty'),
      ),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `a confirmation accepts only trigger_id and reason (not ${issue.keys.join(', ')})`
        : 'the confirmation must be a JSON object',
  },
);

/** An analyst's confirmation of a request the cap blocked. */
export interface Confirmation {
  triggerId: string;
  reason: string;
  /** The IAM principal that signed it: recorded as confirming. */
  caller: string;
  requestId: string;
  occurredAt: number;
}

/** POST /sessions/terminate/confirm, as API Gateway's IAM authorizer passes it: nothing else is accepted. */
export function parseConfirmation(event: unknown, context: Context): Confirmation {
  const http = event as Partial<HttpEvent> | null;
  if (http?.routeKey !== ROUTE || !http.requestContext)
    throw new ValidationError(`only ${ROUTE} is accepted, through the HTTP API`);
  const caller = http.requestContext.authorizer?.iam?.userArn;
  if (!caller)
    throw new ValidationError('a confirmation must be signed by an IAM principal, who is recorded as confirming');
  const parsed = confirmationSchema.safeParse(parseJsonBody(http as HttpEvent));
  if (!parsed.success) throw new ValidationError(issuesMessage(parsed.error));
  return {
    triggerId: parsed.data.trigger_id,
    reason: parsed.data.reason,
    caller,
    requestId: http.requestContext.requestId ?? context.awsRequestId,
    occurredAt: http.requestContext.timeEpoch ?? Date.now(),
  };
}

/** What a confirmation terminates: exactly the sessions the blocked request matched, with no cap. */
export function confirmedRequest(confirmation: Confirmation, blocked: BlockedRequest): TerminationRequest {
  return {
    sessionIds: blocked.session_ids,
    criteria: [],
    reason: confirmation.reason,
    requestedBy: confirmation.caller,
    dryRun: false,
    confirmOverCap: true,
    occurredAt: confirmation.occurredAt,
    trigger: {
      event_id: confirmation.requestId,
      source: 'api',
      detail_type: ROUTE,
      caller: confirmation.caller,
      confirms: blocked.trigger_id,
    },
  };
}
