import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpApiEvent, lambdaContext } from '../../infra/local/lambda-events.js';
import type { LocalPam } from '../../infra/local/local-pam.js';
import { seedSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { eventFixture } from '../support/fixtures.js';
import { type Handler, loadHandler } from '../support/handlers.js';
import { asJson } from '../support/json-result.js';
import { startLocalHandlers } from '../support/local-handlers.js';

let local: LocalPam;
let drop: Handler;
let confirm: Handler;
const ANALYST = 'arn:aws:sts::123456789012:assumed-role/SocAnalyst/soc-analyst';

beforeAll(async () => {
  ({ local, drop } = await startLocalHandlers());
  confirm = await loadHandler('confirm');
});
afterAll(async () => {
  await local.close();
});
beforeEach(() => {
  process.env.MAX_SESSIONS_PER_EVENT = '1';
  local.pam.sessions.splice(0, local.pam.sessions.length, ...seedSessions());
  local.pam.sessionsChanged();
  local.pam.requests.length = 0;
  local.eventBridge.events.length = 0;
});
afterEach(() => {
  delete process.env.MAX_SESSIONS_PER_EVENT;
});

const open = (user: string) =>
  local.pam.sessions.filter((session) => session.user === user && session.end === null).map((s) => s.session_id);
const dropped = () => local.pam.requests.filter((r) => r.endpoint === 'drop').map((r) => r.path.split('/').pop());

function confirmation(body: unknown, options: { caller?: string | null; routeKey?: string } = {}) {
  const event = httpApiEvent({
    method: 'POST',
    routeKey: options.routeKey ?? 'POST /sessions/terminate/confirm',
    rawPath: '/sessions/terminate/confirm',
  }) as any;
  if (options.caller === null) delete event.requestContext.authorizer;
  event.requestContext.requestId = `confirm-${Math.random()}`;
  return { ...event, body: JSON.stringify(body) };
}

/** A SIEM's match over the cap, blocked: its trigger id. */
async function blockedRequest(): Promise<string> {
  const event = eventFixture('termination-request-by-match');
  const report = await drop(event, lambdaContext());
  expect(report.summary).toEqual({ blocked: 2 });
  local.pam.requests.length = 0;
  return event.id;
}

describe('POST /sessions/terminate/confirm', () => {
  it('terminates exactly the sessions the blocked request matched, once, audited with who confirmed', async () => {
    const matched = open('aoliveira');
    const triggerId = await blockedRequest();
    // A session of the same user opened after the block is not part of what was confirmed.
    local.pam.sessions.push({
      ...local.pam.sessions.find((s) => s.user === 'aoliveira')!,
      id: '991',
      session_id: 'f'.repeat(40),
      end: null,
    });
    local.pam.sessionsChanged();
    const { statusCode, body } = asJson(
      await confirm(confirmation({ trigger_id: triggerId, reason: 'INC-311 reviewed' }), lambdaContext()),
    );
    expect(statusCode).toBe(200);
    expect(body.summary).toEqual({ terminated: 2 });
    expect(body.confirmed_over_cap).toBe(true);
    expect(body.trigger).toMatchObject({
      confirms: triggerId,
      caller: ANALYST,
      detail_type: 'POST /sessions/terminate/confirm',
    });
    expect(dropped().sort()).toEqual([...matched].sort());
    const audited = local.eventBridge.events.filter((e) => e['detail-type'] === 'PAM Session Terminated');
    expect(audited.map((e) => e.detail)).toEqual([
      expect.objectContaining({ confirmed_over_cap: true, requested_by: ANALYST }),
      expect.objectContaining({ confirmed_over_cap: true, requested_by: ANALYST }),
    ]);

    local.pam.requests.length = 0;
    const again = asJson(await confirm(confirmation({ trigger_id: triggerId, reason: 'again' }), lambdaContext()));
    expect(again.statusCode).toBe(409);
    expect(again.body.error.code).toBe('already_confirmed');
    expect(local.pam.requests).toEqual([]);
  });

  it('refuses a trigger id nothing was blocked under, and one blocked more than 15 minutes ago', async () => {
    const unknown = asJson(await confirm(confirmation({ trigger_id: 'never-blocked', reason: 'x' }), lambdaContext()));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body.error.code).toBe('blocked_request_not_found');

    const triggerId = await blockedRequest();
    const table = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    await table.send(
      new UpdateCommand({
        TableName: local.dynamodb.table,
        Key: { id: `blocked#${triggerId}` },
        UpdateExpression: 'SET blocked_at = :then',
        ExpressionAttributeValues: { ':then': Date.now() - 15 * 60_000 - 1_000 },
      }),
    );
    const late = asJson(await confirm(confirmation({ trigger_id: triggerId, reason: 'late' }), lambdaContext()));
    expect(late.statusCode).toBe(404);
    expect(local.pam.requests).toEqual([]);
  });

  it('needs a signed caller, its own route, and only trigger_id and reason', async () => {
    const triggerId = await blockedRequest();
    const unsigned = asJson(
      await confirm(confirmation({ trigger_id: triggerId, reason: 'x' }, { caller: null }), lambdaContext()),
    );
    expect(unsigned.statusCode).toBe(400);
    const extra = asJson(
      await confirm(
        confirmation({ trigger_id: triggerId, reason: 'x', session_ids: ['a'.repeat(40)] }),
        lambdaContext(),
      ),
    );
    expect(extra.statusCode).toBe(400);
    // A direct invocation shaped like another route, or like an event, is refused: confirm is its route only.
    await expect(
      confirm(
        confirmation({ trigger_id: triggerId, reason: 'x' }, { routeKey: 'POST /sessions/terminate' }),
        lambdaContext(),
      ),
    ).resolves.toMatchObject({ statusCode: 400 });
    await expect(confirm({ ...eventFixture('termination-request-by-match') }, lambdaContext())).rejects.toMatchObject({
      name: 'ValidationError',
    });
    expect(local.pam.requests).toEqual([]);
  });

  it('is no longer lifted by confirm_over_cap in a termination request: the cap applies', async () => {
    const event = eventFixture('termination-request-by-match');
    event.detail.confirm_over_cap = true;
    const report = await drop(event, lambdaContext());
    expect(report.summary).toEqual({ blocked: 2 });
    expect(dropped()).toEqual([]);
  });
});
