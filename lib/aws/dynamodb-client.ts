import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AWS_REQUEST_LIMITS } from './request-limits.js';

/**
 * One DynamoDB client per container (the idempotency table): a termination waits for its in-progress
 * write. Its time limit is generous: a conditional write retried after a timeout whose first attempt
 * did land finds its own in-progress item, and the invocation fails as if another were running.
 */
export const dynamoDb = new DynamoDBClient({
  requestHandler: { ...AWS_REQUEST_LIMITS, connectionTimeout: 1_000, requestTimeout: 10_000 },
  maxAttempts: 3,
});
