import { type DynamoDbStandIn, startDynamoDbStandIn } from '../../infra/local/dynamodb.js';

/**
 * A DynamoDB-protocol server (dynalite) on loopback, and this process's AWS variables pointing the
 * DynamoDB client and the idempotency table at it. Import the module under test after this: the
 * DynamoDB client reads its endpoint once, when its module loads.
 */
export async function startDynamoDbHere(): Promise<DynamoDbStandIn> {
  const dynamodb = await startDynamoDbStandIn();
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
    IDEMPOTENCY_TABLE: dynamodb.table,
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  return dynamodb;
}
