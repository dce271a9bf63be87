import { ConfigurationError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { idempotencySettings } from '../core/settings.js';
import type { Outcome } from './outcome.js';
import { AlreadyConfirmedError, BlockedRequestNotFoundError } from './termination-errors.js';
import type { TerminationRequest } from './termination-request.js';

/** A blocked request may be confirmed within this long: later, what it matched may no longer be what an analyst saw. */
export const CONFIRM_WITHIN_MS = 15 * 60_000;

/** What the cap blocked, kept for its confirmation: exactly the sessions it matched then. */
export interface BlockedRequest {
  trigger_id: string;
  session_ids: string[];
  reason: string;
  requested_by: string | null;
  blocked_at: number;
}

const keyOf = (triggerId: string) => ({ id: `blocked#${triggerId}` });

type Documents = typeof import('@aws-sdk/lib-dynamodb');
let documents:
  | Promise<{ module: Documents; client: import('@aws-sdk/lib-dynamodb').DynamoDBDocumentClient }>
  | undefined;
/** The idempotency table, through the document client, loaded on first use. */
function table() {
  documents ??= Promise.all([import('@aws-sdk/lib-dynamodb'), import('../aws/dynamodb-client.js')]).then(
    ([module, { dynamoDb }]) => ({ module, client: module.DynamoDBDocumentClient.from(dynamoDb) }),
  );
  return documents;
}

/**
 * Keeps a request the cap blocked (in the idempotency table, expired by its TTL), so that an analyst
 * can confirm it with POST /sessions/terminate/confirm. A failure is logged, never thrown: the block stands.
 */
export async function keepBlockedRequest(request: TerminationRequest, blocked: Outcome[]): Promise<void> {
  const tableName = idempotencySettings().table;
  if (!tableName || blocked.length === 0) return;
  const now = Date.now();
  const item: BlockedRequest = {
    trigger_id: request.trigger.event_id,
    session_ids: blocked.map((outcome) => outcome.session_id),
    reason: request.reason,
    requested_by: request.requestedBy ?? null,
    blocked_at: now,
  };
  try {
    const { module, client } = await table();
    await client.send(
      new module.PutCommand({
        TableName: tableName,
        Item: { ...keyOf(item.trigger_id), ...item, expiration: Math.ceil((now + CONFIRM_WITHIN_MS) / 1000) },
      }),
    );
  } catch (error) {
    logger.error('Could not keep the blocked request for its confirmation', {
      trigger_id: item.trigger_id,
      reason: error instanceof Error ? error.name : String(error),
    });
  }
}

/**
 * Claims a blocked request for one confirmation: at most once, within CONFIRM_WITHIN_MS of the block.
 * Throws BlockedRequestNotFoundError (none, or too old) or AlreadyConfirmedError.
 */
export async function claimBlockedRequest(triggerId: string, confirmedBy: string): Promise<BlockedRequest> {
  const tableName = idempotencySettings().table;
  if (!tableName) throw new ConfigurationError('IDEMPOTENCY_TABLE is not set: blocked requests are not kept');
  const { module, client } = await table();
  const now = Date.now();
  try {
    const updated = await client.send(
      new module.UpdateCommand({
        TableName: tableName,
        Key: keyOf(triggerId),
        UpdateExpression: 'SET confirmed_by = :by, confirmed_at = :now',
        ConditionExpression: 'attribute_exists(id) AND attribute_not_exists(confirmed_by) AND blocked_at > :since',
        ExpressionAttributeValues: { ':by': confirmedBy, ':now': now, ':since': now - CONFIRM_WITHIN_MS },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return updated.Attributes as BlockedRequest;
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    const { Item } = await client.send(new module.GetCommand({ TableName: tableName, Key: keyOf(triggerId) }));
    if (Item?.confirmed_by)
      throw new AlreadyConfirmedError(
        `the blocked request ${triggerId} was already confirmed by ${Item.confirmed_by}`,
        {
          cause: error,
        },
      );
    throw new BlockedRequestNotFoundError(
      `no request with trigger id ${triggerId} was blocked in the last ${CONFIRM_WITHIN_MS / 60_000} minutes`,
      { cause: error },
    );
  }
}

/** Gives a claim back when its termination could not be carried out, so that it can be confirmed again. */
export async function releaseBlockedRequest(triggerId: string): Promise<void> {
  const tableName = idempotencySettings().table;
  if (!tableName) return;
  const { module, client } = await table();
  await client.send(
    new module.UpdateCommand({
      TableName: tableName,
      Key: keyOf(triggerId),
      UpdateExpression: 'REMOVE confirmed_by, confirmed_at',
    }),
  );
}
