import type { Context } from 'aws-lambda';
import { logger } from '../core/logger.js';
import { idempotencySettings } from '../core/settings.js';

type Powertools = typeof import('@aws-lambda-powertools/idempotency');
type Persistence = InstanceType<typeof import('@aws-lambda-powertools/idempotency/dynamodb').DynamoDBPersistenceLayer>;
let loaded: Promise<{ powertools: Powertools; persistence: Persistence; table: string }> | undefined;

/** Powertools Idempotency over the idempotency table, loaded on first use (once per container and table). */
function idempotency(table: string) {
  if (!loaded) {
    loaded = Promise.all([
      import('@aws-lambda-powertools/idempotency'),
      import('@aws-lambda-powertools/idempotency/dynamodb'),
      import('../aws/dynamodb-client.js'),
    ]).then(([powertools, { DynamoDBPersistenceLayer }, { dynamoDb }]) => ({
      powertools,
      persistence: new DynamoDBPersistenceLayer({ tableName: table, awsSdkV3Client: dynamoDb }),
      table,
    }));
    loaded.catch(() => {
      loaded = undefined;
    });
  }
  return loaded;
}

/**
 * Runs `work` once per trigger: a trigger seen before (within IDEMPOTENCY_EXPIRES_HOURS) gets the
 * response its first handling gave, with nothing sent to PAM; one still being handled elsewhere
 * fails this invocation (IdempotencyAlreadyInProgressError), so Lambda retries it later. When `work`
 * throws, its record is removed and a retry acts again. Without a key (an analyst's HTTP request)
 * or without IDEMPOTENCY_TABLE, `work` simply runs.
 */
export async function oncePerTrigger<R>(key: string | undefined, context: Context, work: () => Promise<R>): Promise<R> {
  const { table, expiresAfterSeconds } = idempotencySettings();
  if (key === undefined || table === undefined) return work();
  let { powertools, persistence, table: loadedFor } = await idempotency(table);
  if (loadedFor !== table) {
    loaded = undefined;
    ({ powertools, persistence } = await idempotency(table));
  }
  const config = new powertools.IdempotencyConfig({ eventKeyJmesPath: 'key', expiresAfterSeconds });
  config.registerLambdaContext(context);
  let ran = false;
  const once = powertools.makeIdempotent(
    async (_trigger: { key: string }) => {
      ran = true;
      return work();
    },
    { persistenceStore: persistence, config },
  );
  const response = await once({ key });
  if (!ran) logger.info('This trigger was handled before: its first response is returned, nothing was sent', { key });
  return response;
}
