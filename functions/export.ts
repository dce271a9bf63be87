import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { exportInventory } from '../lib/inventory/inventory-export.js';
import { inventoryMetrics } from '../lib/inventory/inventory-metrics.js';
import { deadlineFromRemainingTime } from '../lib/invocation/deadline.js';
import { lambdaHandler } from '../lib/invocation/lambda-handler.js';

/** The export's worker threads run this file, which `npm run build` bundles next to the handler. */
const workerUrl = new URL('./block-encoder-worker.mjs', import.meta.url);

/** Scheduled (or invoked directly): writes the whole session inventory to S3. The event carries nothing it needs. */
export const handler = await lambdaHandler(
  async (_event: unknown, context: Context) =>
    exportInventory({ deadline: deadlineFromRemainingTime(context.getRemainingTimeInMillis()), workerUrl }),
  { middlewares: [logMetrics(inventoryMetrics)] },
);
