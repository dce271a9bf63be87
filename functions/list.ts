import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { logger } from '../lib/core/logger.js';
import { listSessions } from '../lib/inventory/list-sessions.js';
import { deadlineFromRemainingTime, HTTP_API_BUDGET_MS } from '../lib/invocation/deadline.js';
import { errorResponder, jsonResponse } from '../lib/invocation/http-response.js';
import { withSettingsPerInvocation } from '../lib/invocation/settings-per-invocation.js';
import { tracingMiddleware } from '../lib/invocation/tracing.js';
import { parseListQuery } from '../lib/sessions/session-filter.js';

/** GET /sessions: the PAM Core's remote sessions (or the newest export's), optionally filtered by exact match. */
export const handler = withSettingsPerInvocation(
  middy(async (event: APIGatewayProxyEventV2, context: Context) => {
    const query = parseListQuery(event.queryStringParameters);
    const deadline = deadlineFromRemainingTime(Math.min(context.getRemainingTimeInMillis(), HTTP_API_BUDGET_MS));
    const response = await listSessions(query, deadline);
    logger.info('Listed remote sessions', { source: response.source, count: response.count });
    return jsonResponse(200, response);
  })
    .use(await tracingMiddleware())
    .use(injectLambdaContext(logger))
    .use(errorResponder()),
);
