import type { Context } from 'aws-lambda';
import { actOnCredential } from '../lib/containment/credential-request.js';
import { credentialResponse, parseCredentialInput } from '../lib/invocation/credential-input.js';
import { deadlineFromRemainingTime, HTTP_API_BUDGET_MS } from '../lib/invocation/deadline.js';
import { lambdaHandler } from '../lib/invocation/lambda-handler.js';

/**
 * POST /credentials/{id}/reactivate and POST /credentials/{id}/quarantine (IAM-signed), and the
 * reactivation EventBridge Scheduler sends when a quarantine ends (docs/containment.md).
 */
export const handler = await lambdaHandler(async (event: unknown, context: Context) => {
  const input = parseCredentialInput(event, context);
  const remaining = context.getRemainingTimeInMillis();
  const deadline = deadlineFromRemainingTime(
    input.source === 'http' ? Math.min(remaining, HTTP_API_BUDGET_MS) : remaining,
  );
  return credentialResponse(input.source, await actOnCredential(input.request, { deadline }));
});
