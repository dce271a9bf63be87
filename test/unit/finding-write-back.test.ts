import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { BatchUpdateFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { findingNote, MAX_NOTE_LENGTH, writeBackToFindings } from '../../lib/termination/finding-write-back.js';
import type { Outcome } from '../../lib/termination/outcome.js';
import type { TerminationRequest } from '../../lib/termination/termination-request.js';
import { emfRecords } from '../support/emf.js';
import { captureOutput, logLinesSaying } from '../support/output-capture.js';

const securityHub = mockClient(SecurityHubClient);
const eventBridge = mockClient(EventBridgeClient);

const outcome = (session_id: string, kind: Outcome['outcome']): Outcome => ({
  session_id,
  outcome: kind,
  session: null,
  resolved_from: 'index',
  index_age_ms: 1_000,
  event_age_ms: 2_000,
});
const id = (n: number) => n.toString(16).padStart(40, 'c');
const finding = {
  id: 'arn:aws:securityhub:us-east-1:123456789012:subscription/aws-foundational-security-best-practices/v/1.0.0/GuardDuty.1/finding/1',
  productArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty',
};
const request: TerminationRequest = {
  sessionIds: [],
  criteria: [{ origin_ip: '203.0.113.77' }],
  reason: 'Security Hub: brute force',
  requestedBy: 'aws.securityhub',
  dryRun: false,
  trigger: { event_id: 'e-7f1c', source: 'aws.securityhub', detail_type: 'Security Hub Findings - Imported' },
  findings: [finding],
};

beforeEach(() => {
  securityHub.reset();
  eventBridge.reset();
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
});

describe('the note written back to a Security Hub finding', () => {
  it('says the counts, the sessions cut and the trigger', () => {
    const note = findingNote([outcome(id(1), 'terminated'), outcome(id(2), 'skipped_protected')], 'e-7f1c');
    expect(note).toBe(
      `pam-session-responder: 1 terminated, 1 skipped_protected. Terminated: ${id(1)}. Audit trigger id: e-7f1c.`,
    );
  });

  it('stays within 512 characters, naming as many sessions as fit and how many more', () => {
    const note = findingNote(
      Array.from({ length: 40 }, (_, n) => outcome(id(n), 'terminated')),
      'e-7f1c',
    );
    expect(note.length).toBeLessThanOrEqual(MAX_NOTE_LENGTH);
    expect(note).toMatch(/…and \d+ more\. Audit trigger id: e-7f1c\.$/);
    expect(note).toContain(id(0));
  });
});

describe('writing the outcome back', () => {
  it('sends the note and NOTIFIED when a session was terminated, never RESOLVED', async () => {
    securityHub.on(BatchUpdateFindingsCommand).resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
    await writeBackToFindings(request, [outcome(id(1), 'terminated')]);
    expect(securityHub.commandCalls(BatchUpdateFindingsCommand).map((call) => call.args[0].input)).toEqual([
      {
        FindingIdentifiers: [{ Id: finding.id, ProductArn: finding.productArn }],
        Note: { Text: expect.stringContaining('1 terminated'), UpdatedBy: 'pam-session-responder' },
        Workflow: { Status: 'NOTIFIED' },
      },
    ]);
  });

  it('leaves the workflow as it is when nothing was terminated or blocked', async () => {
    securityHub.on(BatchUpdateFindingsCommand).resolves({ UnprocessedFindings: [] });
    await writeBackToFindings(request, [outcome(id(1), 'already_ended')]);
    expect(securityHub.commandCalls(BatchUpdateFindingsCommand)[0]?.args[0].input.Workflow).toBeUndefined();
  });

  it('on failure, neither throws nor hides the termination: it logs, counts and audits it', async () => {
    securityHub
      .on(BatchUpdateFindingsCommand)
      .rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
    await expect(writeBackToFindings(request, [outcome(id(1), 'terminated')])).resolves.toBeUndefined();
    const [audit] = eventBridge.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);
    expect(audit?.DetailType).toBe('PAM Finding Update Failed');
    expect(JSON.parse(audit?.Detail ?? '{}')).toMatchObject({
      reason: 'AccessDeniedException',
      trigger: { event_id: 'e-7f1c' },
    });
  });

  it('treats findings Security Hub did not process as a failure too', async () => {
    securityHub.on(BatchUpdateFindingsCommand).resolves({
      UnprocessedFindings: [
        {
          FindingIdentifier: { Id: finding.id, ProductArn: finding.productArn },
          ErrorCode: 'FindingNotFound',
          ErrorMessage: '',
        },
      ],
    });
    await writeBackToFindings(request, [outcome(id(1), 'terminated')]);
    const entries = eventBridge.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);
    expect(JSON.parse(entries[0]?.Detail ?? '{}').reason).toBe(`${finding.id}: FindingNotFound`);
  });

  it('is not attempted for requests that did not come from Security Hub', async () => {
    await writeBackToFindings({ ...request, findings: undefined }, [outcome(id(1), 'terminated')]);
    expect(securityHub.commandCalls(BatchUpdateFindingsCommand)).toHaveLength(0);
  });
});

describe('the note, to the character', () => {
  const head = (summary: string) => `pam-session-responder: ${summary}.`;
  const tail = (trigger: string) => ` Audit trigger id: ${trigger}.`;

  it('says when no session matched, and gives the counts alone when nothing was terminated', () => {
    expect(findingNote([], 'e-1')).toBe(`${head('no session matched')}${tail('e-1')}`);
    expect(findingNote([outcome(id(1), 'already_ended'), outcome(id(2), 'blocked')], 'e-1')).toBe(
      `${head('1 already_ended, 1 blocked')}${tail('e-1')}`,
    );
    const long = 't'.repeat(600);
    expect(findingNote([outcome(id(1), 'already_ended')], long)).toBe(
      `${head('1 already_ended')}${tail(long)}`.slice(0, MAX_NOTE_LENGTH),
    );
  });

  it('names every session terminated when they fit, up to exactly 512 characters', () => {
    const both = [outcome(id(1), 'terminated'), outcome(id(2), 'terminated')];
    const bare = `${head('2 terminated')} Terminated: ${id(1)}, ${id(2)}.${tail('')}`;
    const trigger = 'x'.repeat(MAX_NOTE_LENGTH - bare.length);
    expect(findingNote(both, trigger)).toBe(`${head('2 terminated')} Terminated: ${id(1)}, ${id(2)}.${tail(trigger)}`);
    expect(findingNote(both, trigger)).toHaveLength(MAX_NOTE_LENGTH);
    expect(findingNote(both, `${trigger}x`)).toBe(
      `${head('2 terminated')} Terminated: ${id(1)} …and 1 more.${tail(`${trigger}x`)}`,
    );
  });

  it('says only how many when no id fits, and cuts the note when not even that fits', () => {
    const both = [outcome(id(1), 'terminated'), outcome(id(2), 'terminated')];
    const bare = `${head('2 terminated')} Terminated: …and 2 more.${tail('')}`;
    const trigger = 'x'.repeat(MAX_NOTE_LENGTH - bare.length);
    expect(findingNote(both, trigger)).toBe(`${head('2 terminated')} Terminated: …and 2 more.${tail(trigger)}`);
    const long = 'y'.repeat(600);
    expect(findingNote(both, long)).toBe(`${head('2 terminated')}${tail(long)}`.slice(0, MAX_NOTE_LENGTH));
  });
});

describe('the write-back, as the operator reads it', () => {
  const logs = captureOutput();
  let from = 0;
  beforeEach(() => {
    from = logs.text().length;
  });

  it('notifies for a blocked session too, and when only one of the sessions was terminated', async () => {
    securityHub.on(BatchUpdateFindingsCommand).resolves({ UnprocessedFindings: [] });
    await writeBackToFindings(request, [outcome(id(1), 'blocked')]);
    await writeBackToFindings(request, [outcome(id(1), 'already_ended'), outcome(id(2), 'terminated')]);
    const workflows = securityHub.commandCalls(BatchUpdateFindingsCommand).map((call) => call.args[0].input.Workflow);
    expect(workflows).toEqual([{ Status: 'NOTIFIED' }, { Status: 'NOTIFIED' }]);
    expect(logLinesSaying(logs.text().slice(from), 'Security Hub findings updated')).toMatchObject([
      { level: 'INFO', findings: 1, workflow: 'NOTIFIED' },
      { level: 'INFO', findings: 1, workflow: 'NOTIFIED' },
    ]);
    expect(eventBridge.commandCalls(PutEventsCommand)).toEqual([]);
    expect(emfRecords(logs.text().slice(from))).toEqual([]);
  });

  it('logs the findings updated and the workflow left unchanged', async () => {
    securityHub.on(BatchUpdateFindingsCommand).resolves({});
    await writeBackToFindings({ ...request, findings: [finding, finding] }, [outcome(id(1), 'already_ended')]);
    expect(logLinesSaying(logs.text().slice(from), 'Security Hub findings updated')).toMatchObject([
      { findings: 2, workflow: 'unchanged' },
    ]);
  });

  it('names every finding Security Hub did not process, logs the failure and counts it', async () => {
    const second = { ...finding, id: `${finding.id}-2` };
    securityHub.on(BatchUpdateFindingsCommand).resolves({
      UnprocessedFindings: [
        {
          FindingIdentifier: { Id: finding.id, ProductArn: finding.productArn },
          ErrorCode: 'FindingNotFound',
          ErrorMessage: '',
        },
        {
          FindingIdentifier: { Id: second.id, ProductArn: second.productArn },
          ErrorCode: 'InternalFailure',
          ErrorMessage: '',
        },
      ],
    });
    await writeBackToFindings({ ...request, findings: [finding, second] }, [outcome(id(1), 'terminated')]);
    const reason = `${finding.id}: FindingNotFound; ${second.id}: InternalFailure`;
    const written = logs.text().slice(from);
    expect(logLinesSaying(written, 'Could not write the outcome back to the Security Hub findings')).toMatchObject([
      { level: 'ERROR', reason },
    ]);
    expect(logLinesSaying(written, 'Security Hub findings updated')).toEqual([]);
    expect(emfRecords(written).map((record) => record.values.WriteBackFailed)).toEqual([1]);
    const entries = eventBridge.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);
    expect(JSON.parse(entries[0]?.Detail ?? '{}').reason).toBe(reason);
  });
});
