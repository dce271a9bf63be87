import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from '../lib/core/logger.js';
import { exportInventory } from '../lib/inventory/inventory-export.js';
import { inventoryMetrics } from '../lib/inventory/inventory-metrics.js';
import { deadlineFromRemainingTime } from '../lib/invocation/deadline.js';
import { errorResponder } from '../lib/invocation/http-response.js';
import { withSettingsPerInvocation } from '../lib/invocation/settings-per-invocation.js';
import { tracingMiddleware } from '../lib/invocation/tracing.js';

/** The export's worker threads run this file, which `npm run build` bundles next to the handler. */
const workerUrl = new URL('./block-encoder-worker.mjs', import.meta.url);

/** Scheduled (or invoked directly): writes the whole session inventory to S3. The event carries nothing it needs. */
export const handler = withSettingsPerInvocation(
  middy(async (_event: unknown, context: Context) =>
    exportInventory({ deadline: deadlineFromRemainingTime(context.getRemainingTimeInMillis()), workerUrl }),
  )
    .use(await tracingMiddleware())
    .use(injectLambdaContext(logger))
    .use(logMetrics(inventoryMetrics))
    .use(errorResponder()),
);
