import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { runIndexUpdates } from '../lib/inventory/index-updates.js';
import { inventoryMetrics } from '../lib/inventory/inventory-metrics.js';
import { deadlineFromRemainingTime } from '../lib/invocation/deadline.js';
import { lambdaHandler } from '../lib/invocation/lambda-handler.js';

/**
 * Scheduled every minute (or invoked directly): updates the active-session index INDEX_UPDATES_PER_MINUTE
 * times within the minute. The event carries nothing it needs.
 */
export const handler = await lambdaHandler(
  async (_event: unknown, context: Context) =>
    runIndexUpdates({ deadline: deadlineFromRemainingTime(context.getRemainingTimeInMillis()) }),
  { middlewares: [logMetrics(inventoryMetrics)] },
);
