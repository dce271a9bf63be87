import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { BatchUpdateFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { findingNote, MAX_NOTE_LENGTH, writeBackToFindings } from '../../lib/termination/finding-write-back.js';
import type { Outcome } from '../../lib/termination/outcome.js';
import type { TerminationRequest } from '../../lib/termination/termination-request.js';

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
