import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from '../lib/core/logger.js';
import { indexSessions } from '../lib/inventory/index-sessions.js';
import { inventoryMetrics } from '../lib/inventory/inventory-metrics.js';
import { deadlineFromRemainingTime } from '../lib/invocation/deadline.js';
import { errorResponder } from '../lib/invocation/http-response.js';
import { tracingMiddleware } from '../lib/invocation/tracing.js';

/** Scheduled every minute (or invoked directly): rewrites the active-session index. The event carries nothing it needs. */
export const handler = middy(async (_event: unknown, context: Context) =>
  indexSessions({ deadline: deadlineFromRemainingTime(context.getRemainingTimeInMillis()) }),
)
  .use(await tracingMiddleware())
  .use(injectLambdaContext(logger))
  .use(logMetrics(inventoryMetrics))
  .use(errorResponder());
