import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { logger } from '../lib/core/logger.js';
import { listSessions } from '../lib/inventory/list-sessions.js';
import { deadlineFromRemainingTime, HTTP_API_BUDGET_MS } from '../lib/invocation/deadline.js';
import { jsonResponse } from '../lib/invocation/http-response.js';
import { lambdaHandler } from '../lib/invocation/lambda-handler.js';
import { parseListQuery } from '../lib/sessions/session-filter.js';

/** GET /sessions: the PAM Core's remote sessions (or the newest export's), optionally filtered by exact match. */
export const handler = await lambdaHandler(async (event: APIGatewayProxyEventV2, context: Context) => {
  const query = parseListQuery(event.queryStringParameters);
  const deadline = deadlineFromRemainingTime(Math.min(context.getRemainingTimeInMillis(), HTTP_API_BUDGET_MS));
  const response = await listSessions(query, deadline);
  logger.info('Listed remote sessions', { source: response.source, count: response.count });
  return jsonResponse(200, response);
});
