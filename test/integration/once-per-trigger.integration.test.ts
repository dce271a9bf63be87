import { createHash } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DynamoDbStandIn } from '../../infra/local/dynamodb.js';
import { startDynamoDbHere } from '../support/dynamodb-here.js';
import { captureOutput } from '../support/output-capture.js';

// oncePerTrigger over a real DynamoDB-protocol server (dynalite), without the rest of the stack.
let dynamodb: DynamoDbStandIn;
let oncePerTrigger: typeof import('../../lib/invocation/once-per-trigger.js').oncePerTrigger;
const output = captureOutput();
const HANDLED_BEFORE = 'This trigger was handled before: its first response is returned, nothing was sent';

const context = {
  functionName: 'pam-session-responder-drop',
  awsRequestId: 'request-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

beforeAll(async () => {
  dynamodb = await startDynamoDbHere();
  ({ oncePerTrigger } = await import('../../lib/invocation/once-per-trigger.js'));
});

afterAll(async () => {
  await dynamodb.close();
});

beforeEach(async () => {
  process.env.IDEMPOTENCY_TABLE = dynamodb.table;
  delete process.env.IDEMPOTENCY_EXPIRES_HOURS;
  await dynamodb.clear();
});

/** A piece of work that counts its runs and responds with its run number. */
function counted() {
  let runs = 0;
  return {
    work: async () => ({ run: ++runs }),
    runs: () => runs,
  };
}

describe('oncePerTrigger', () => {
  it('runs a trigger once: a second delivery gets the first response, with nothing run, and says so', async () => {
    const { work, runs } = counted();
    const before = output.text().split(HANDLED_BEFORE).length;
    expect(await oncePerTrigger('event-1', context, work)).toEqual({ run: 1 });
    expect(output.text().split(HANDLED_BEFORE).length).toBe(before);
    expect(await oncePerTrigger('event-1', context, work)).toEqual({ run: 1 });
    expect(runs()).toBe(1);
    expect(output.text().split(HANDLED_BEFORE).length).toBe(before + 1);
    expect(await dynamodb.items()).toHaveLength(1);
  });

  it('runs each trigger of its own', async () => {
    const { work, runs } = counted();
    expect(await oncePerTrigger('event-a', context, work)).toEqual({ run: 1 });
    expect(await oncePerTrigger('event-b', context, work)).toEqual({ run: 2 });
    expect(runs()).toBe(2);
  });

  it('keeps no record of a handling that threw: a retry runs again', async () => {
    let attempt = 0;
    const work = async () => {
      attempt += 1;
      if (attempt === 1) throw new Error('PAM did not answer');
      return { attempt };
    };
    await expect(oncePerTrigger('event-2', context, work)).rejects.toThrow('PAM did not answer');
    expect(await oncePerTrigger('event-2', context, work)).toEqual({ attempt: 2 });
    expect(attempt).toBe(2);
  });

  it('without a key (an HTTP request), runs every time and keeps nothing', async () => {
    const { work, runs } = counted();
    await oncePerTrigger(undefined, context, work);
    await oncePerTrigger(undefined, context, work);
    expect(runs()).toBe(2);
    expect(await dynamodb.items()).toHaveLength(0);
  });

  it('without IDEMPOTENCY_TABLE, runs every time', async () => {
    delete process.env.IDEMPOTENCY_TABLE;
    const { work, runs } = counted();
    await oncePerTrigger('event-3', context, work);
    await oncePerTrigger('event-3', context, work);
    expect(runs()).toBe(2);
    expect(await dynamodb.items()).toHaveLength(0);
  });

  it('follows a change of IDEMPOTENCY_TABLE: the records go to the table now named', async () => {
    const { work } = counted();
    await oncePerTrigger('event-4', context, work);
    process.env.IDEMPOTENCY_TABLE = 'no-such-table';
    // A table that does not exist fails the invocation: it is never taken for "not seen before".
    await expect(oncePerTrigger('event-5', context, work)).rejects.toThrow();
    process.env.IDEMPOTENCY_TABLE = dynamodb.table;
    expect(await oncePerTrigger('event-4', context, work)).toEqual({ run: 1 });
  });

  it('says which trigger was handled before', async () => {
    const { work } = counted();
    await oncePerTrigger('event-6', context, work);
    const before = output.text().length;
    await oncePerTrigger('event-6', context, work);
    const line = output
      .text()
      .slice(before)
      .split('\n')
      .find((text) => text.includes(HANDLED_BEFORE));
    expect(JSON.parse(line ?? '{}')).toMatchObject({ message: HANDLED_BEFORE, key: 'event-6' });
  });

  it('keeps a record for IDEMPOTENCY_EXPIRES_HOURS (24 unless set), under the trigger key alone', async () => {
    const { work } = counted();
    // A container reads the setting once, with its first trigger: each case is a fresh container.
    const expirationOf = async (key: string, hours: number) => {
      vi.resetModules();
      const fresh = await import('../../lib/invocation/once-per-trigger.js');
      const before = Date.now() / 1_000;
      await fresh.oncePerTrigger(key, context, work);
      const after = Date.now() / 1_000;
      const digest = createHash('md5').update(JSON.stringify(key)).digest('base64');
      const record = (await dynamodb.items()).find((item) => (item.id as { S: string }).S.endsWith(`#${digest}`));
      expect(record, `the record of ${key}`).toBeDefined();
      const expiration = Number((record?.expiration as { N: string } | undefined)?.N);
      expect(expiration).toBeGreaterThanOrEqual(Math.floor(before + hours * 3_600));
      expect(expiration).toBeLessThanOrEqual(Math.ceil(after + hours * 3_600));
    };
    await expirationOf('event-7', 24);
    process.env.IDEMPOTENCY_EXPIRES_HOURS = '2';
    await expirationOf('event-8', 2);
  });

  it('forgets a load that failed: the next trigger in the container loads again and runs', async () => {
    const persistence = '@aws-lambda-powertools/idempotency/dynamodb';
    let failures = 1;
    vi.resetModules();
    vi.doMock(persistence, async (importActual) => {
      const actual = await importActual<typeof import('@aws-lambda-powertools/idempotency/dynamodb')>();
      class FailingOnce extends actual.DynamoDBPersistenceLayer {
        constructor(...options: ConstructorParameters<typeof actual.DynamoDBPersistenceLayer>) {
          if (failures-- > 0) throw new Error('the persistence layer could not load');
          super(...options);
        }
      }
      return { ...actual, DynamoDBPersistenceLayer: FailingOnce };
    });
    try {
      const fresh = await import('../../lib/invocation/once-per-trigger.js');
      const { work, runs } = counted();
      await expect(fresh.oncePerTrigger('event-9', context, work)).rejects.toThrow('could not load');
      expect(runs()).toBe(0);
      expect(await fresh.oncePerTrigger('event-9', context, work)).toEqual({ run: 1 });
    } finally {
      vi.doUnmock(persistence);
    }
  });
});
