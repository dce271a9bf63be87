import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { publishAuditEvents } from '../../lib/aws/audit-trail.js';

const eventBridge = mockClient(EventBridgeClient);
const events = (count: number) =>
  Array.from({ length: count }, (_, index) => ({
    detailType: 'PAM Session Terminated',
    detail: { session_id: `s${index}`, outcome: 'terminated' },
  }));
const sentIds = (input: PutEventsCommandInput) =>
  (input.Entries ?? []).map((entry) => JSON.parse(entry.Detail ?? '{}').session_id);

describe('publishAuditEvents', () => {
  beforeEach(() => {
    eventBridge.reset();
    delete process.env.AUDIT_EVENT_BUS;
  });

  it('batches at most 10 entries per PutEvents call, on the audit bus', async () => {
    process.env.AUDIT_EVENT_BUS = 'security-audit';
    eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => ({
      FailedEntryCount: 0,
      Entries: (input.Entries ?? []).map(() => ({ EventId: 'x' })),
    }));
    expect(await publishAuditEvents(events(23))).toEqual({ published: 23, failed: 0 });
    const calls = eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input);
    expect(calls.map((input) => input.Entries?.length)).toEqual([10, 10, 3]);
    expect(
      calls
        .flatMap((input) => input.Entries ?? [])
        .every((entry) => entry.EventBusName === 'security-audit' && entry.Source === 'pam.session-responder'),
    ).toBe(true);
  });

  it('retries only the entries PutEvents reports as failed', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [
          { EventId: 'a' },
          { ErrorCode: 'ThrottlingException' },
          { EventId: 'c' },
          { ErrorCode: 'InternalFailure' },
        ],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }, { EventId: 'd' }] });
    expect(await publishAuditEvents(events(4))).toEqual({ published: 4, failed: 0 });
    const calls = eventBridge.commandCalls(PutEventsCommand).map((call) => sentIds(call.args[0].input));
    expect(calls).toEqual([
      ['s0', 's1', 's2', 's3'],
      ['s1', 's3'],
    ]);
  });

  it('reports what it could not publish after its retries, without throwing', async () => {
    eventBridge.on(PutEventsCommand).rejects(new Error('service unavailable'));
    expect(await publishAuditEvents(events(12))).toEqual({ published: 0, failed: 12 });
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(8);
  });

  it('sends a throttled call again, and not one EventBridge refused for good (access denied)', async () => {
    const refusal = (name: string, status: number) =>
      Object.assign(new Error(name), { name, $fault: 'client', $metadata: { httpStatusCode: status } });
    eventBridge
      .on(PutEventsCommand)
      .rejectsOnce(refusal('ThrottlingException', 400))
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'a' }] });
    expect(await publishAuditEvents(events(1))).toEqual({ published: 1, failed: 0 });
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(2);

    eventBridge.reset();
    eventBridge.on(PutEventsCommand).rejects(refusal('AccessDeniedException', 400));
    expect(await publishAuditEvents(events(1))).toEqual({ published: 0, failed: 1 });
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(1);
  });

  it('sends nothing when there is nothing to say', async () => {
    expect(await publishAuditEvents([])).toEqual({ published: 0, failed: 0 });
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});
