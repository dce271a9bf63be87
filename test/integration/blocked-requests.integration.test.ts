import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DynamoDbStandIn } from '../../infra/local/dynamodb.js';
import { ConfigurationError } from '../../lib/core/errors.js';
import type { Outcome } from '../../lib/termination/outcome.js';
import { AlreadyConfirmedError, BlockedRequestNotFoundError } from '../../lib/termination/termination-errors.js';
import type { TerminationRequest } from '../../lib/termination/termination-request.js';
import { startDynamoDbHere } from '../support/dynamodb-here.js';
import { captureOutput } from '../support/output-capture.js';

// The blocked requests kept for their confirmation, over a real DynamoDB-protocol server (dynalite), in-process.
let dynamodb: DynamoDbStandIn;
let blocked: typeof import('../../lib/termination/blocked-requests.js');
const output = captureOutput();
const MINUTE = 60_000;

beforeAll(async () => {
  dynamodb = await startDynamoDbHere();
  blocked = await import('../../lib/termination/blocked-requests.js');
});

afterAll(async () => {
  vi.useRealTimers();
  await dynamodb.close();
});

beforeEach(async () => {
  vi.useRealTimers();
  process.env.IDEMPOTENCY_TABLE = dynamodb.table;
  await dynamodb.clear();
});

function request(eventId: string, requestedBy?: string): TerminationRequest {
  return {
    sessionIds: [],
    criteria: [{ user: 'alice' }],
    reason: 'GuardDuty: SSH brute force',
    requestedBy,
    dryRun: false,
    trigger: { event_id: eventId, source: 'aws.guardduty', detail_type: 'GuardDuty Finding' },
  };
}

const outcomes = (...ids: string[]) =>
  ids.map(
    (id): Outcome => ({
      session_id: id,
      outcome: 'blocked',
      session: null,
      resolved_from: 'live',
      index_age_ms: null,
      event_age_ms: 0,
    }),
  );

describe('blocked requests', () => {
  it('keeps what the cap blocked, expiring 15 minutes after the block, and lets it be claimed once', async () => {
    const before = Date.now();
    await blocked.keepBlockedRequest(request('event-1', 'analyst@example.com'), outcomes('11', '12'));
    const [item] = (await dynamodb.items()) as Array<Record<string, { S?: string; N?: string }>>;
    expect(item?.id).toEqual({ S: 'blocked#event-1' });
    const blockedAt = Number(item?.blocked_at?.N);
    expect(blockedAt).toBeGreaterThanOrEqual(before);
    expect(Number(item?.expiration?.N)).toBe(Math.ceil((blockedAt + 15 * MINUTE) / 1000));

    const claim = await blocked.claimBlockedRequest('event-1', 'lead@example.com');
    expect(claim).toMatchObject({
      trigger_id: 'event-1',
      session_ids: ['11', '12'],
      reason: 'GuardDuty: SSH brute force',
      requested_by: 'analyst@example.com',
      blocked_at: blockedAt,
    });
    const again = blocked.claimBlockedRequest('event-1', 'other@example.com');
    await expect(again).rejects.toBeInstanceOf(AlreadyConfirmedError);
    await expect(again).rejects.toThrow('the blocked request event-1 was already confirmed by lead@example.com');
  });

  it('keeps nothing when nothing was blocked, or without the table', async () => {
    await blocked.keepBlockedRequest(request('event-2'), []);
    delete process.env.IDEMPOTENCY_TABLE;
    await blocked.keepBlockedRequest(request('event-3'), outcomes('11'));
    expect(await dynamodb.items()).toEqual([]);
    const claim = blocked.claimBlockedRequest('event-3', 'lead');
    await expect(claim).rejects.toBeInstanceOf(ConfigurationError);
    await expect(claim).rejects.toThrow('IDEMPOTENCY_TABLE is not set: blocked requests are not kept');
    await expect(blocked.releaseBlockedRequest('event-3')).resolves.toBeUndefined();
  });

  it('passes on a DynamoDB failure of the claim: it is never taken for "not blocked"', async () => {
    await blocked.keepBlockedRequest(request('event-6'), outcomes('11'));
    // DynamoDB refuses an item over 400 KB: the update fails, the read after it would not.
    const claim = blocked.claimBlockedRequest('event-6', 'x'.repeat(410_000));
    await expect(claim).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(claim).rejects.not.toBeInstanceOf(BlockedRequestNotFoundError);
  });

  it('records who asked as null when nobody is named', async () => {
    await blocked.keepBlockedRequest(request('event-4'), outcomes('11'));
    expect((await blocked.claimBlockedRequest('event-4', 'lead')).requested_by).toBeNull();
  });

  it('logs a request it could not keep, without throwing: the block stands', async () => {
    process.env.IDEMPOTENCY_TABLE = 'no-such-table';
    await expect(blocked.keepBlockedRequest(request('event-5'), outcomes('11'))).resolves.toBeUndefined();
    expect(output.text()).toContain('Could not keep the blocked request for its confirmation');
    expect(output.text()).toContain('ResourceNotFoundException');
  });

  it('finds no request never blocked, nor one blocked 15 minutes ago or more', async () => {
    const missing = blocked.claimBlockedRequest('event-never', 'lead');
    await expect(missing).rejects.toBeInstanceOf(BlockedRequestNotFoundError);
    await expect(missing).rejects.toThrow('no request with trigger id event-never was blocked in the last 15 minutes');

    vi.useFakeTimers({ toFake: ['Date'] });
    const blockedAt = Date.now();
    await blocked.keepBlockedRequest(request('event-6'), outcomes('11'));
    await blocked.keepBlockedRequest(request('event-7'), outcomes('11'));
    vi.setSystemTime(blockedAt + 15 * MINUTE - 1);
    await expect(blocked.claimBlockedRequest('event-6', 'lead')).resolves.toMatchObject({ trigger_id: 'event-6' });
    vi.setSystemTime(blockedAt + 15 * MINUTE);
    await expect(blocked.claimBlockedRequest('event-7', 'lead')).rejects.toBeInstanceOf(BlockedRequestNotFoundError);
  });

  it('gives a claim back, so that the request can be confirmed again', async () => {
    await blocked.keepBlockedRequest(request('event-8'), outcomes('11'));
    await blocked.claimBlockedRequest('event-8', 'lead');
    await blocked.releaseBlockedRequest('event-8');
    await expect(blocked.claimBlockedRequest('event-8', 'second')).resolves.toMatchObject({ trigger_id: 'event-8' });
    const [item] = await dynamodb.items();
    expect(item?.confirmed_by).toEqual({ S: 'second' });
  });
});
