import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { deadlineFromRemainingTime, HTTP_API_BUDGET_MS } from '../lib/deadline.js';
import { answerDrop } from '../lib/drop-answer.js';
import { parseDropInput } from '../lib/drop-request.js';
import { errorResponder } from '../lib/http-api.js';
import { logger } from '../lib/logger.js';
import { metrics } from '../lib/outcome-metrics.js';
import { responderSettings } from '../lib/responder-settings.js';
import { respondToTermination } from '../lib/session-responder.js';

/**
 * Terminates sessions: DELETE /sessions/{sessionId}, POST /sessions/terminate, a direct
 * {"session_id": "…"}, or an EventBridge event (SIEM request, GuardDuty or Security Hub finding).
 */
export const handler = middy(async (event: unknown, context: Context) => {
  const settings = responderSettings();
  const input = parseDropInput(event, context, settings);
  const remaining = context.getRemainingTimeInMillis();
  const budget = input.source === 'http' ? Math.min(remaining, HTTP_API_BUDGET_MS) : remaining;
  const result = await respondToTermination(input.request, settings, {
    deadline: deadlineFromRemainingTime(budget),
    ignored: input.kind === 'batch' ? input.ignored : undefined,
  });
  return answerDrop(input, result);
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .use(errorResponder());
