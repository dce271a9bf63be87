import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { registerAfterResponse, respondingFirst } from '../lib/aws/after-response.js';
import { logger } from '../lib/core/logger.js';
import { terminationSettings } from '../lib/core/settings.js';
import { deadlineFromRemainingTime, HTTP_API_BUDGET_MS } from '../lib/invocation/deadline.js';
import { errorResponder } from '../lib/invocation/http-response.js';
import { countRejectedRequest, parseTerminationInput } from '../lib/invocation/termination-input.js';
import { terminationResponse } from '../lib/invocation/termination-response.js';
import { tracingMiddleware } from '../lib/invocation/tracing.js';
import { prepareTermination, terminateSessions } from '../lib/termination/terminate-sessions.js';

// Lambda accepts an extension's registration only while the module loads; the index and the secret are read meanwhile.
await Promise.all([registerAfterResponse(), prepareTermination()]);

/**
 * Terminates sessions: DELETE /sessions/{sessionId}, POST /sessions/terminate, a direct
 * {"session_id": "…"}, or an EventBridge event (SIEM request, GuardDuty or Security Hub finding).
 * Responds once the audit is published; the records of what it terminated may finish after.
 */
export const handler = respondingFirst(
  middy(async (event: unknown, context: Context) => {
    const settings = terminationSettings();
    const input = parseTerminationInput(event, context, settings);
    const remaining = context.getRemainingTimeInMillis();
    const budget = input.source === 'http' ? Math.min(remaining, HTTP_API_BUDGET_MS) : remaining;
    const report = await terminateSessions(input.request, settings, {
      deadline: deadlineFromRemainingTime(budget),
      replayable: input.source === 'event',
    });
    return terminationResponse(input, report);
  })
    .use(await tracingMiddleware())
    .use(injectLambdaContext(logger))
    .use(errorResponder({ onInvalidRequest: countRejectedRequest })),
);
