import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { deadlineFromRemainingTime } from '../lib/deadline.js';
import { errorResponder, jsonResponse } from '../lib/http-api.js';
import { logger } from '../lib/logger.js';
import { listRemoteSessions } from '../lib/pam-client.js';
import { filterSessions, parseSessionFilter } from '../lib/session-filter.js';

/** GET /sessions: the PAM Core's remote sessions, optionally filtered by exact match. */
export const handler = middy(async (event: APIGatewayProxyEventV2, context: Context) => {
  const filter = parseSessionFilter(event.queryStringParameters);
  const { sessions, malformed } = await listRemoteSessions({
    deadline: deadlineFromRemainingTime(context.getRemainingTimeInMillis()),
  });
  const selected = filterSessions(sessions, filter);
  logger.info('Listed remote sessions', { total: sessions.length, selected: selected.length, malformed });
  return jsonResponse(200, { sessions: selected, count: selected.length, malformed });
})
  .use(injectLambdaContext(logger))
  .use(errorResponder());
