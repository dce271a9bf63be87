import type { Context } from 'aws-lambda';
import { terminationSettings } from '../lib/core/settings.js';
import { confirmedRequest, parseConfirmation } from '../lib/invocation/confirmation-input.js';
import { deadlineFromRemainingTime, HTTP_API_BUDGET_MS } from '../lib/invocation/deadline.js';
import { lambdaHandler } from '../lib/invocation/lambda-handler.js';
import { countRejectedRequest } from '../lib/invocation/termination-input.js';
import { terminationResponse } from '../lib/invocation/termination-response.js';
import { claimBlockedRequest, releaseBlockedRequest } from '../lib/termination/blocked-requests.js';
import { terminateSessions } from '../lib/termination/terminate-sessions.js';

/**
 * POST /sessions/terminate/confirm: an analyst lifts the cap for one request it blocked, within 15
 * minutes, terminating exactly the sessions it matched. A function of its own, reached only by its
 * route, so that IAM grants it apart from the termination routes.
 */
export const handler = await lambdaHandler(
  async (event: unknown, context: Context) => {
    const confirmation = parseConfirmation(event, context);
    const blocked = await claimBlockedRequest(confirmation.triggerId, confirmation.caller);
    const request = confirmedRequest(confirmation, blocked);
    const deadline = deadlineFromRemainingTime(Math.min(context.getRemainingTimeInMillis(), HTTP_API_BUDGET_MS));
    try {
      const report = await terminateSessions(request, terminationSettings(), { deadline });
      return terminationResponse({ kind: 'batch', source: 'http', request }, report);
    } catch (error) {
      await releaseBlockedRequest(blocked.trigger_id);
      throw error;
    }
  },
  { onInvalidRequest: countRejectedRequest },
);
