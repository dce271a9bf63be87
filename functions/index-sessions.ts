import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from '../lib/core/logger.js';
import { runIndexUpdates } from '../lib/inventory/index-updates.js';
import { inventoryMetrics } from '../lib/inventory/inventory-metrics.js';
import { deadlineFromRemainingTime } from '../lib/invocation/deadline.js';
import { errorResponder } from '../lib/invocation/http-response.js';
import { withSettingsPerInvocation } from '../lib/invocation/settings-per-invocation.js';
import { tracingMiddleware } from '../lib/invocation/tracing.js';

/**
 * Scheduled every minute (or invoked directly): updates the active-session index INDEX_UPDATES_PER_MINUTE
 * times within the minute. The event carries nothing it needs.
 */
export const handler = withSettingsPerInvocation(
  middy(async (_event: unknown, context: Context) =>
    runIndexUpdates({ deadline: deadlineFromRemainingTime(context.getRemainingTimeInMillis()) }),
  )
    .use(await tracingMiddleware())
    .use(injectLambdaContext(logger))
    .use(logMetrics(inventoryMetrics))
    .use(errorResponder()),
);
