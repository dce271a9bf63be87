import { BatchUpdateFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { CONTAINMENT_METRICS, publishContainmentMetrics } from '../../lib/containment/containment-metrics.js';
import type {
  ContainmentOutcome,
  ContainmentOutcomeKind,
  CredentialFacts,
} from '../../lib/containment/containment-outcome.js';
import { type ContainmentContext, reportContainment } from '../../lib/containment/containment-report.js';
import { PamApiError } from '../../lib/pam/pam-errors.js';
import type { TerminationRequest } from '../../lib/termination/termination-request.js';
import { emfRecords } from '../support/emf.js';
import { captureOutput, logLinesSaying } from '../support/output-capture.js';
import { forgetSent, sent } from '../support/report-sinks.js';

vi.mock('../../lib/aws/audit-trail.js', () => import('../support/report-sinks.js').then((sinks) => sinks.auditTrail));
vi.mock('../../lib/aws/alarm-topic.js', () => import('../support/report-sinks.js').then((sinks) => sinks.alarmTopic));

const securityHub = mockClient(SecurityHubClient);
const output = captureOutput();
const TRIGGER = { event_id: 'evt-9c1d', source: 'siem.soar', detail_type: 'PAM Session Termination Requested' };
const CONTEXT: ContainmentContext = {
  reason: 'credential dump seen by the SIEM',
  requested_by: 'soc-analyst',
  dry_run: false,
  trigger: TRIGGER,
};
const FINDING = {
  id: 'arn:aws:securityhub:us-east-1:123456789012:security-control/EC2.19/finding/5b0f1a2e',
  productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
};

const credential = (id: string | null, username = 'root'): CredentialFacts => ({ id, username, device: '10.66.50.9' });
function contained(kind: ContainmentOutcomeKind, id: string | null, extra: Partial<ContainmentOutcome> = {}) {
  return {
    action: 'rotate',
    outcome: kind,
    credential: credential(id),
    session_ids: ['e7079c4837b794864e25f7880b1626416596ee80'],
    contained_age_ms: 2_400,
    ...extra,
  } satisfies ContainmentOutcome;
}
function request(triggerId: string, findings = [FINDING]): TerminationRequest {
  return {
    sessionIds: [],
    criteria: [],
    reason: 'Security Hub: credential access',
    requestedBy: 'aws.securityhub',
    dryRun: false,
    trigger: { ...TRIGGER, event_id: triggerId },
    findings,
  };
}
/** The part of the note the sessions' outcomes write when no session matched. */
const sessionNote = (triggerId: string) => `pam-session-responder: no session matched. Audit trigger id: ${triggerId}.`;
const notesSent = () => securityHub.commandCalls(BatchUpdateFindingsCommand).map((call) => call.args[0].input.Note);

let from = 0;
const written = () => output.text().slice(from);
beforeEach(() => {
  forgetSent();
  securityHub.reset();
  securityHub.on(BatchUpdateFindingsCommand).resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
  from = output.text().length;
});

describe('the report of a containment', () => {
  it('audits each outcome under its detail type with the request around it, never the error, and sums them up', async () => {
    const failure = new PamApiError({ kind: 'timeout', retryable: true, message: 'slow' });
    const outcomes = [
      contained('rotated', '41'),
      contained('quarantined', '42', { action: 'deactivate', reactivate_at: '2026-12-07T12:00:00.000Z' }),
      contained('already_quarantined', '43', { action: 'deactivate' }),
      contained('reactivated', '44', { action: 'reactivate' }),
      contained('failed', '45', { error: failure, message: 'slow' }),
      contained('not_contained', null),
      contained('skipped_protected', '47'),
      contained('would_rotate', '48'),
      contained('would_deactivate', '49'),
    ];
    const report = await reportContainment(['rotate', 'deactivate'], outcomes, CONTEXT, undefined);
    expect(report).toEqual({
      actions: ['rotate', 'deactivate'],
      outcomes,
      summary: {
        rotated: 1,
        quarantined: 1,
        already_quarantined: 1,
        reactivated: 1,
        failed: 1,
        not_contained: 1,
        skipped_protected: 1,
        would_rotate: 1,
        would_deactivate: 1,
      },
      audit: { published: 9, failed: 0 },
    });
    const events = sent.audit[0] ?? [];
    expect(events.map((event) => event.detailType)).toEqual([
      'PAM Credential Rotated',
      'PAM Credential Quarantined',
      'PAM Credential Quarantined',
      'PAM Credential Reactivated',
      'PAM Credential Containment Failed',
      'PAM Credential Containment Failed',
      'PAM Credential Containment Skipped',
      'PAM Credential Containment Skipped',
      'PAM Credential Containment Skipped',
    ]);
    expect(events[1]?.detail).toEqual({
      action: 'deactivate',
      outcome: 'quarantined',
      credential: credential('42'),
      session_ids: ['e7079c4837b794864e25f7880b1626416596ee80'],
      reactivate_at: '2026-12-07T12:00:00.000Z',
      contained_age_ms: 2_400,
      ...CONTEXT,
    });
    expect(events[4]?.detail).toMatchObject({ outcome: 'failed', message: 'slow' });
    expect(events[4]?.detail).not.toHaveProperty('error');
    expect(sent.notices).toEqual([]);
  });

  it('logs each outcome with the request, never its error', async () => {
    const failure = new PamApiError({ kind: 'timeout', retryable: true, message: 'slow' });
    await reportContainment(
      ['rotate'],
      [contained('rotated', '41'), contained('failed', '45', { error: failure })],
      CONTEXT,
      undefined,
    );
    const lines = logLinesSaying(written(), 'Credential outcome');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ outcome: 'rotated', credential: credential('41'), ...CONTEXT });
    expect(lines[1]).toMatchObject({ outcome: 'failed', reason: CONTEXT.reason, trigger: TRIGGER });
    expect(lines[1]).not.toHaveProperty('error');
  });

  it('over the cap, tells a human which credentials, once each, and how to contain them by hand', async () => {
    const blocked = [
      contained('blocked', '51'),
      contained('blocked', '52', { action: 'deactivate' }),
      contained('blocked', '51', { action: 'deactivate' }),
    ];
    await reportContainment(
      ['rotate', 'deactivate'],
      [contained('skipped_protected', '50'), ...blocked],
      CONTEXT,
      undefined,
    );
    expect(sent.notices).toEqual([
      [
        'PAM credential containment blocked: 2 credentials over the cap',
        {
          what: '2 credentials would have been contained, more than MAX_CREDENTIALS_PER_REQUEST: none was',
          reason: CONTEXT.reason,
          requested_by: 'soc-analyst',
          trigger: TRIGGER,
          credential_ids: ['51', '52'],
          to_contain:
            'POST /credentials/{id}/quarantine (IAM-signed) for each credential a human decides to quarantine; the audit event "PAM Credential Containment Failed" (outcome blocked) lists them',
        },
      ],
    ]);
  });
});

describe('the containment in the findings’ note', () => {
  it('adds the counts and the ids of the credentials contained to the sessions’ note, as one note', async () => {
    const outcomes = [
      contained('rotated', '41'),
      contained('quarantined', '42', { action: 'deactivate' }),
      contained('rotated', '41', { action: 'rotate' }),
      contained('already_quarantined', '43', { action: 'deactivate' }),
      contained('failed', '45'),
      contained('not_contained', null),
      contained('skipped_protected', '47'),
    ];
    await reportContainment(['rotate'], outcomes, CONTEXT, { request: request('evt-1'), sessions: [] });
    expect(securityHub.commandCalls(BatchUpdateFindingsCommand).map((call) => call.args[0].input)).toEqual([
      {
        FindingIdentifiers: [{ Id: FINDING.id, ProductArn: FINDING.productArn }],
        Note: {
          Text: `${sessionNote('evt-1')} Credentials: 2 rotated, 1 quarantined, 1 already_quarantined, 1 failed, 1 not_contained, 1 skipped_protected (ids 41, 42, 43).`,
          UpdatedBy: 'pam-session-responder',
        },
      },
    ]);
  });

  it('names no ids when none was contained', async () => {
    await reportContainment(['rotate'], [contained('failed', '45'), contained('not_contained', null)], CONTEXT, {
      request: request('evt-2'),
      sessions: [],
    });
    expect(notesSent()).toEqual([
      { Text: `${sessionNote('evt-2')} Credentials: 1 failed, 1 not_contained.`, UpdatedBy: 'pam-session-responder' },
    ]);
  });

  it('writes nothing without findings, or without an outcome', async () => {
    await reportContainment(['rotate'], [contained('rotated', '41')], CONTEXT, {
      request: request('e', []),
      sessions: [],
    });
    await reportContainment(['rotate'], [], CONTEXT, { request: request('e'), sessions: [] });
    await reportContainment(['rotate'], [contained('rotated', '41')], CONTEXT, undefined);
    expect(notesSent()).toEqual([]);
  });

  it('keeps a note of exactly 512 characters whole, and shortens the sessions’ part of a longer one', async () => {
    const extra = ' Credentials: 1 rotated (ids 41).';
    const exact = 'x'.repeat(512 - extra.length - sessionNote('').length);
    await reportContainment(['rotate'], [contained('rotated', '41')], CONTEXT, {
      request: request(exact),
      sessions: [],
    });
    const over = `${exact}y`;
    await reportContainment(['rotate'], [contained('rotated', '41')], CONTEXT, {
      request: request(over),
      sessions: [],
    });
    const [whole, shortened] = notesSent().map((note) => note?.Text ?? '');
    expect(whole).toBe(`${sessionNote(exact)}${extra}`);
    expect(whole).toHaveLength(512);
    expect(shortened).toBe(`${sessionNote(over).slice(0, 512 - extra.length - 1)}…${extra}`);
    expect(shortened).toHaveLength(512);
  });

  it('gives the containment at most half the note', async () => {
    const many = Array.from({ length: 80 }, (_, n) => contained('rotated', String(1000 + n)));
    await reportContainment(['rotate'], many, CONTEXT, { request: request('evt-3'), sessions: [] });
    const text = notesSent()[0]?.Text ?? '';
    const full = ` Credentials: 80 rotated (ids ${many.map((o) => o.credential.id).join(', ')}).`;
    expect(text).toBe(`${sessionNote('evt-3')}${full.slice(0, 256)}`);
  });

  it('counts and logs a note Security Hub did not take, or could not be sent, and nothing when it was taken', async () => {
    const write = { request: request('evt-4'), sessions: [] };
    await reportContainment(['rotate'], [contained('rotated', '41')], CONTEXT, write);
    securityHub.on(BatchUpdateFindingsCommand).resolves({});
    await reportContainment(['rotate'], [contained('rotated', '41')], CONTEXT, write);
    expect(emfRecords(written()).some((record) => 'WriteBackFailed' in record.values)).toBe(false);
    expect(logLinesSaying(written(), 'Security Hub did not take the containment note')).toEqual([]);

    securityHub.on(BatchUpdateFindingsCommand).resolves({
      UnprocessedFindings: [
        {
          FindingIdentifier: { Id: FINDING.id, ProductArn: FINDING.productArn },
          ErrorCode: 'FindingNotFound',
          ErrorMessage: 'not found',
        },
      ],
    });
    await reportContainment(['rotate'], [contained('rotated', '41')], CONTEXT, write);
    expect(logLinesSaying(written(), 'Security Hub did not take the containment note')).toMatchObject([
      { level: 'ERROR', unprocessed: 1 },
    ]);

    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    securityHub.on(BatchUpdateFindingsCommand).rejects(denied);
    await reportContainment(['rotate'], [contained('rotated', '41')], CONTEXT, write);
    expect(
      logLinesSaying(written(), 'Could not write the containment back to the Security Hub findings'),
    ).toMatchObject([{ level: 'ERROR', reason: 'AccessDeniedException' }]);
    const failures = emfRecords(written()).filter((record) => 'WriteBackFailed' in record.values);
    expect(failures.map((record) => record.values.WriteBackFailed)).toEqual([1, 1]);
  });
});

describe('the containment metrics', () => {
  it('counts each outcome under its dashboard name, and TimeToContain per credential rotated or quarantined', () => {
    publishContainmentMetrics([
      contained('rotated', '41', { contained_age_ms: 1_100 }),
      contained('quarantined', '42', { contained_age_ms: 2_200 }),
      contained('already_quarantined', '43', { contained_age_ms: 3_300 }),
      contained('reactivated', '44', { contained_age_ms: 4_400 }),
      contained('failed', '45'),
      contained('failed', '46'),
      contained('blocked', '47'),
      contained('not_contained', null),
      contained('skipped_protected', '48'),
    ]);
    const records = emfRecords(written());
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record?.namespace).toBe('PamSessionResponder');
    expect(record?.values).toMatchObject({
      service: 'pam-session-responder',
      CredentialRotated: 1,
      CredentialQuarantined: 2,
      CredentialReactivated: 1,
      CredentialContainmentFailed: 2,
      CredentialContainmentBlocked: 1,
      CredentialNotContained: 1,
      TimeToContain: [1_100, 2_200],
    });
    expect(record?.metrics).toContainEqual({ Name: 'TimeToContain', Unit: 'Milliseconds' });
    expect(record?.metrics).toContainEqual({ Name: 'CredentialRotated', Unit: 'Count' });
    expect(Object.values(CONTAINMENT_METRICS)).toEqual([
      'CredentialRotated',
      'CredentialQuarantined',
      'CredentialQuarantined',
      'CredentialReactivated',
      'CredentialContainmentFailed',
      'CredentialContainmentBlocked',
      'CredentialNotContained',
    ]);
  });

  it('publishes nothing when no outcome is counted (previews and protected credentials)', () => {
    publishContainmentMetrics([contained('would_rotate', '41'), contained('skipped_protected', '42')]);
    expect(emfRecords(written())).toEqual([]);
    expect(written()).not.toMatch(/No application metrics to publish/);
  });
});
