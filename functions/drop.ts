import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { deadlineFromRemainingTime } from '../lib/deadline.js';
import { parseDropRequest } from '../lib/drop-request.js';
import { errorResponder, jsonResponse } from '../lib/http-api.js';
import { logger } from '../lib/logger.js';
import { dropSession } from '../lib/pam-client.js';

/** DELETE /sessions/{sessionId}, or a direct invocation with {"session_id": "…"}: terminates one session. */
export const handler = middy(async (event: unknown, context: Context) => {
  const request = parseDropRequest(event);
  const result = await dropSession(request.sessionId, {
    deadline: deadlineFromRemainingTime(context.getRemainingTimeInMillis()),
  });
  logger.info('Session terminated', { session_id: result.session_id, source: request.source });
  return request.source === 'http' ? jsonResponse(200, result) : result;
})
  .use(injectLambdaContext(logger))
  .use(errorResponder());
