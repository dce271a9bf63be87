import type { Context } from 'aws-lambda';
import { containCredentials } from '../lib/containment/contain-credentials.js';
import { terminationSettings } from '../lib/core/settings.js';
import { deadlineFromRemainingTime, HTTP_API_BUDGET_MS } from '../lib/invocation/deadline.js';
import { lambdaHandler } from '../lib/invocation/lambda-handler.js';
import { oncePerTrigger } from '../lib/invocation/once-per-trigger.js';
import { countRejectedRequest, parseTerminationInput } from '../lib/invocation/termination-input.js';
import { terminationResponse } from '../lib/invocation/termination-response.js';
import { prepareTermination, terminateSessions } from '../lib/termination/terminate-sessions.js';

// The index and the secret are read while the module loads, before the first event.
await prepareTermination();

/**
 * Terminates sessions: DELETE /sessions/{sessionId}, POST /sessions/terminate, a direct
 * {"session_id": "…"}, or an EventBridge event (SIEM request, GuardDuty or Security Hub finding).
 * Each event, finding version and keyed direct invocation is handled once (the idempotency table).
 * Responds once the audit, the records and the Security Hub write-back are done, and the
 * credentials the request asked to contain are rotated or quarantined.
 */
export const handler = await lambdaHandler(
  async (event: unknown, context: Context) => {
    const settings = terminationSettings();
    const input = parseTerminationInput(event, context, settings);
    const remaining = context.getRemainingTimeInMillis();
    const budget = input.source === 'http' ? Math.min(remaining, HTTP_API_BUDGET_MS) : remaining;
    const deadline = deadlineFromRemainingTime(budget);
    return oncePerTrigger(input.idempotencyKey, context, async () => {
      const report = await terminateSessions(input.request, settings, { deadline });
      // After the report: only what was terminated (a dry run: would be) has its credential contained.
      const containment = await containCredentials(input.request, report, settings, { deadline });
      return terminationResponse(input, report, containment);
    });
  },
  { onInvalidRequest: countRejectedRequest },
);
