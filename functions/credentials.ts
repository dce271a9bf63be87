import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { actOnCredential } from '../lib/containment/credential-request.js';
import { logger } from '../lib/core/logger.js';
import { credentialResponse, parseCredentialInput } from '../lib/invocation/credential-input.js';
import { deadlineFromRemainingTime, HTTP_API_BUDGET_MS } from '../lib/invocation/deadline.js';
import { errorResponder } from '../lib/invocation/http-response.js';
import { withSettingsPerInvocation } from '../lib/invocation/settings-per-invocation.js';
import { tracingMiddleware } from '../lib/invocation/tracing.js';

/**
 * POST /credentials/{id}/reactivate and POST /credentials/{id}/quarantine (IAM-signed), and the
 * reactivation EventBridge Scheduler sends when a quarantine ends (docs/containment.md).
 */
export const handler = withSettingsPerInvocation(
  middy(async (event: unknown, context: Context) => {
    const input = parseCredentialInput(event, context);
    const remaining = context.getRemainingTimeInMillis();
    const deadline = deadlineFromRemainingTime(
      input.source === 'http' ? Math.min(remaining, HTTP_API_BUDGET_MS) : remaining,
    );
    return credentialResponse(input.source, await actOnCredential(input.request, { deadline }));
  })
    .use(await tracingMiddleware())
    .use(injectLambdaContext(logger))
    .use(errorResponder()),
);
