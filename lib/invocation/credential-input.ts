import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import type { CredentialRequest, CredentialResponse } from '../containment/credential-request.js';
import { ValidationError } from '../core/errors.js';
import { issuesMessage } from '../core/zod-issues.js';
import { parseCredentialId } from '../pam/credential-api.js';
import { TerminationIncompleteError } from '../termination/termination-errors.js';
import { text } from '../termination/termination-request.js';
import { type HttpEvent, isHttpApiEvent, jsonBody, jsonResponse } from './http-response.js';

/** A body larger than this is refused before it is parsed. */
const MAX_BODY_BYTES = 16 * 1024;
/** A year: Scheduler takes any future time, a quarantine longer than this is a mistake. */
const MAX_MINUTES = 525_600;

export const credentialBodySchema = z.strictObject(
  {
    reason: text('reason', 1024),
    requested_by: z.optional(text('requested_by', 256)),
    minutes: z.optional(
      z
        .number({ error: 'minutes must be a whole number' })
        .check(
          z.int('minutes must be a whole number'),
          z.minimum(0, 'minutes must be 0 or more'),
          z.maximum(MAX_MINUTES, `minutes must be at most ${MAX_MINUTES}`),
        ),
    ),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `the body accepts only reason, requested_by and minutes (not ${issue.keys.join(', ')})`
        : 'the request must be a JSON object',
  },
);

/** What EventBridge Scheduler hands the function when a quarantine ends (lib/containment/quarantine.ts). */
const scheduledSchema = z.strictObject({
  action: z.literal('reactivate'),
  credential_id: z.string(),
  schedule: z.string().check(z.maxLength(64)),
  reason: text('reason', 1024),
});

function fromHttp(event: HttpEvent, context: Context): CredentialRequest {
  const path = event.routeKey ?? `${event.requestContext.http.method} ${event.rawPath ?? ''}`;
  const action = /\/reactivate$/.test(path) ? 'reactivate' : /\/quarantine$/.test(path) ? 'quarantine' : undefined;
  if (event.requestContext.http.method !== 'POST' || !action) {
    throw new ValidationError('Expected POST /credentials/{id}/reactivate or POST /credentials/{id}/quarantine');
  }
  const credentialId = parseCredentialId(event.pathParameters?.id);
  const parsed = credentialBodySchema.safeParse(
    jsonBody(event, { maxBytes: MAX_BODY_BYTES, expected: '{"reason": "…"}' }),
  );
  if (!parsed.success) throw new ValidationError(issuesMessage(parsed.error));
  if (action === 'reactivate' && parsed.data.minutes !== undefined)
    throw new ValidationError('minutes applies to a quarantine only');
  const caller = event.requestContext.authorizer?.iam?.userArn;
  return {
    action,
    credentialId,
    reason: parsed.data.reason,
    requestedBy: parsed.data.requested_by ?? caller,
    ...(parsed.data.minutes === undefined ? {} : { minutes: parsed.data.minutes }),
    trigger: {
      event_id: event.requestContext.requestId ?? context.awsRequestId,
      source: 'api',
      detail_type: event.routeKey ?? path,
      ...(caller ? { caller } : {}),
    },
    occurredAt: event.requestContext.timeEpoch ?? Date.now(),
  };
}

/** The credentials function's input: the HTTP API's two routes, or the reactivation a schedule sends. */
export function parseCredentialInput(
  event: unknown,
  context: Context,
): { source: 'http' | 'schedule'; request: CredentialRequest } {
  if (isHttpApiEvent(event)) return { source: 'http', request: fromHttp(event as HttpEvent, context) };
  const scheduled = scheduledSchema.safeParse(event);
  if (!scheduled.success) {
    throw new ValidationError(
      `Expected an HTTP API request or a scheduled reactivation: ${issuesMessage(scheduled.error)}`,
    );
  }
  return {
    source: 'schedule',
    request: {
      action: 'reactivate',
      credentialId: parseCredentialId(scheduled.data.credential_id),
      reason: `the quarantine ended (${scheduled.data.reason})`,
      requestedBy: 'scheduler',
      trigger: {
        event_id: context.awsRequestId,
        source: 'aws.scheduler',
        detail_type: `Schedule ${scheduled.data.schedule}`,
      },
      occurredAt: Date.now(),
    },
  };
}

/**
 * What goes back: the HTTP response, or for a schedule the result itself, thrown as a failure when its audit
 * event was not published, so that Lambda retries it (a second PUT of an active credential changes nothing).
 */
export function credentialResponse(source: 'http' | 'schedule', response: CredentialResponse) {
  if (source === 'http') return jsonResponse(200, response);
  if (response.audit.failed > 0) {
    throw new TerminationIncompleteError(
      `credential ${response.credential_id} was ${response.outcome}, but its audit event was not published`,
    );
  }
  return response;
}
