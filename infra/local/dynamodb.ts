import type { Server } from 'node:http';
import { CreateTableCommand, DeleteItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { closeServer, listenOnLoopback } from './loopback-server.js';

export interface DynamoDbStandIn {
  /** Point the AWS SDK here with AWS_ENDPOINT_URL_DYNAMODB. */
  url: string;
  /** The idempotency table, as serverless.yml creates it (partition key `id`, TTL on `expiration`). */
  table: string;
  /** Every item of the table (for tests). */
  items(): Promise<Array<Record<string, unknown>>>;
  /** Forgets every item: a fresh account's table. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real DynamoDB-protocol server (dynalite, in memory) on loopback, with the idempotency table,
 * for `npm start` and the tests.
 */
export async function startDynamoDbStandIn(options: { port?: number; table?: string } = {}): Promise<DynamoDbStandIn> {
  const table = options.table ?? 'pam-session-responder-local-idempotency';
  const server: Server = dynalite({ createTableMs: 0 });
  const port = await listenOnLoopback(server, options.port);
  const url = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await client.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const items = async () => (await client.send(new ScanCommand({ TableName: table }))).Items ?? [];
  return {
    url,
    table,
    items,
    clear: async () => {
      for (const item of await items())
        await client.send(new DeleteItemCommand({ TableName: table, Key: { id: item.id as never } }));
    },
    close: async () => {
      client.destroy();
      server.closeAllConnections?.();
      await closeServer(server);
    },
  };
}
