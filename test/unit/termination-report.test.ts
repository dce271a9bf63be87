import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PamApiError } from '../../lib/pam/pam-errors.js';
import type { Outcome, OutcomeKind } from '../../lib/termination/outcome.js';
import {
  countRecordWriteFailures,
  countRejectedRequest,
  countWriteBackFailure,
} from '../../lib/termination/outcome-metrics.js';
import { SessionNotFoundError } from '../../lib/termination/termination-errors.js';
import { MAX_OUTCOME_LOG_LINES, reportOutcomes } from '../../lib/termination/termination-report.js';
import type { TerminationRequest } from '../../lib/termination/termination-request.js';
import { emfRecords } from '../support/emf.js';
import { captureOutput, logLinesSaying } from '../support/output-capture.js';
import { forgetSent, sent } from '../support/report-sinks.js';

vi.mock('../../lib/aws/audit-trail.js', () => import('../support/report-sinks.js').then((sinks) => sinks.auditTrail));
vi.mock('../../lib/aws/alarm-topic.js', () => import('../support/report-sinks.js').then((sinks) => sinks.alarmTopic));

const output = captureOutput();
const TRIGGER = { event_id: 'evt-7f3a', source: 'aws.guardduty', detail_type: 'GuardDuty Finding' };

function request(overrides: Partial<TerminationRequest> = {}): TerminationRequest {
  return {
    sessionIds: [],
    criteria: [],
    reason: 'brute force from 203.0.113.77',
    requestedBy: 'soc-analyst',
    dryRun: false,
    trigger: TRIGGER,
    ...overrides,
  };
}

function outcome(session_id: string, kind: OutcomeKind, extra: Partial<Outcome> = {}): Outcome {
  return {
    session_id,
    outcome: kind,
    session: { id: '7', user: 'mchen', origin_ip: '203.0.113.77', device: 'db01', credential: 'root', protocol: 'SSH' },
    resolved_from: 'index',
    index_age_ms: 1_200,
    event_age_ms: 3_400,
    ...extra,
  };
}

const logLines = (message: string, from: number) => logLinesSaying(output.text().slice(from), message);

let from = 0;
beforeEach(() => {
  forgetSent();
  from = output.text().length;
  delete process.env.POWERTOOLS_METRICS_DISABLED;
});
afterEach(() => vi.restoreAllMocks());

describe('the report of a termination', () => {
  it('audits each action on its own, with the request around it, and says what it counted', async () => {
    const outcomes = [
      outcome('s1', 'terminated', { confirmed: true }),
      outcome('s2', 'already_ended', { message: 'PAM Core says it has ended' }),
      outcome('s3', 'skipped_protected'),
      outcome('s4', 'failed', { error: new PamApiError({ kind: 'timeout', retryable: true, message: 'slow' }) }),
    ];
    const report = await reportOutcomes(request(), false, outcomes);
    expect(report).toMatchObject({
      reason: 'brute force from 203.0.113.77',
      requested_by: 'soc-analyst',
      dry_run: false,
      trigger: TRIGGER,
      summary: { terminated: 1, already_ended: 1, skipped_protected: 1, failed: 1 },
      audit: { published: 4, failed: 0 },
    });
    expect(report).not.toHaveProperty('ignored');
    expect(report).not.toHaveProperty('confirmed_over_cap');
    const [events = []] = sent.audit;
    expect(events.map((event) => event.detailType)).toEqual([
      'PAM Session Terminated',
      'PAM Session Terminated',
      'PAM Session Termination Skipped',
      'PAM Session Termination Failed',
    ]);
    expect(events[0]?.detail).toEqual({
      session_id: 's1',
      outcome: 'terminated',
      session: outcomes[0]?.session,
      resolved_from: 'index',
      index_age_ms: 1_200,
      event_age_ms: 3_400,
      confirmed: true,
      reason: 'brute force from 203.0.113.77',
      requested_by: 'soc-analyst',
      dry_run: false,
      trigger: TRIGGER,
    });
    expect(events[1]?.detail).toMatchObject({ message: 'PAM Core says it has ended' });
    expect(events[1]?.detail).not.toHaveProperty('confirmed');
    expect(events[2]?.detail).not.toHaveProperty('message');
    expect(sent.notices).toEqual([]);
  });

  it('takes an id PAM does not have for the caller\'s mistake (rejected), and a blocked dry run for "would block"', async () => {
    const missing = new SessionNotFoundError('no such session');
    const report = await reportOutcomes(request(), true, [
      outcome('gone', 'failed', { error: missing }),
      outcome('b1', 'blocked'),
      outcome('f1', 'failed', { error: new PamApiError({ kind: 'timeout', retryable: true, message: 'slow' }) }),
    ]);
    expect(report.outcomes.map((o) => o.outcome)).toEqual(['rejected', 'would_block', 'failed']);
    expect(report.summary).toEqual({ rejected: 1, would_block: 1, failed: 1 });
    const types = (sent.audit[0] ?? []).map((event) => event.detailType);
    expect(types).toEqual([
      'PAM Session Termination Rejected',
      'PAM Session Termination Failed',
      'PAM Session Termination Skipped',
    ]);
    // Nobody is paged for a preview.
    expect(sent.notices).toEqual([]);
    const notDry = await reportOutcomes(request(), false, [outcome('b2', 'blocked')]);
    expect(notDry.outcomes[0]?.outcome).toBe('blocked');
  });

  it('audits what is not an action once per request, listing the sessions', async () => {
    await reportOutcomes(request({ dryRun: true }), true, [
      outcome('w1', 'would_terminate', { message: 'dry run' }),
      outcome('w2', 'would_terminate'),
      outcome('w3', 'would_block'),
    ]);
    const events = sent.audit[0] ?? [];
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual({
      detailType: 'PAM Session Termination Skipped',
      detail: {
        outcome: 'would_terminate',
        count: 2,
        sessions: [
          {
            session_id: 'w1',
            session: expect.any(Object),
            message: 'dry run',
            resolved_from: 'index',
            index_age_ms: 1_200,
          },
          { session_id: 'w2', session: expect.any(Object), resolved_from: 'index', index_age_ms: 1_200 },
        ],
        reason: 'brute force from 203.0.113.77',
        requested_by: 'soc-analyst',
        dry_run: true,
        trigger: TRIGGER,
      },
    });
    expect(events[1]?.detail).toMatchObject({ outcome: 'would_block', count: 1 });
    expect(events[1]?.detail).not.toHaveProperty('part');
  });

  it('splits an aggregated event into numbered parts under 200 KB each, never an empty one', async () => {
    const bulky = (id: string) => outcome(id, 'blocked', { message: 'x'.repeat(60 * 1024) });
    await reportOutcomes(request(), false, [bulky('b1'), bulky('b2'), bulky('b3'), bulky('b4')]);
    const events = sent.audit[0] ?? [];
    expect(events.map((event) => event.detail.part)).toEqual([
      { number: 1, of: 2 },
      { number: 2, of: 2 },
    ]);
    expect(events.map((event) => (event.detail.sessions as unknown[]).length)).toEqual([3, 1]);
    expect(events.every((event) => event.detail.count === 4)).toBe(true);
    // One session larger than a part is still sent, alone.
    sent.audit.length = 0;
    await reportOutcomes(request(), false, [outcome('huge', 'blocked', { message: 'y'.repeat(210 * 1024) })]);
    expect((sent.audit[0] ?? []).map((event) => (event.detail.sessions as unknown[]).length)).toEqual([1]);
  });

  it('keeps sessions that add up to exactly 200 KB in one part', async () => {
    const blocked = (id: string, length: number) => outcome(id, 'blocked', { message: 'x'.repeat(length) });
    const size = (o: Outcome) => {
      const { session_id, session, message, resolved_from, index_age_ms } = o;
      return Buffer.byteLength(JSON.stringify({ session_id, session, message, resolved_from, index_age_ms }));
    };
    const first = blocked('b1', 100_000);
    const second = blocked('b2', 1 + 200 * 1024 - size(first) - size(blocked('b2', 1)));
    expect(size(first) + size(second)).toBe(200 * 1024);
    await reportOutcomes(request(), false, [first, second]);
    expect((sent.audit[0] ?? []).map((event) => (event.detail.sessions as unknown[]).length)).toEqual([2]);
  });

  it('audits an ignored request as one event that says why, and returns why', async () => {
    const ignored = 'severity 2 is below the threshold 7';
    const report = await reportOutcomes(request({ ignored }), false, []);
    expect(report.ignored).toBe(ignored);
    expect(sent.audit[0]).toEqual([
      {
        detailType: 'PAM Session Termination Ignored',
        detail: {
          ignored,
          reason: 'brute force from 203.0.113.77',
          requested_by: 'soc-analyst',
          dry_run: false,
          trigger: TRIGGER,
        },
      },
    ]);
    expect(logLines('Termination report', from)).toMatchObject([{ ignored, outcomes_logged: 0 }]);
  });

  it('marks an analyst-confirmed request over the cap everywhere, and no requester as null', async () => {
    const report = await reportOutcomes(request({ confirmOverCap: true, requestedBy: undefined }), false, [
      outcome('s1', 'terminated'),
    ]);
    expect(report).toMatchObject({ confirmed_over_cap: true, requested_by: null });
    expect(sent.audit[0]?.[0]?.detail).toMatchObject({ confirmed_over_cap: true, requested_by: null });
  });

  it('logs each outcome under its own keys, the most telling first, at most 100, then one summary line', async () => {
    const many = [
      ...Array.from({ length: 60 }, (_, i) => outcome(`w${i}`, 'already_ended', { message: 'ended before' })),
      ...Array.from({ length: 50 }, (_, i) => outcome(`t${i}`, 'terminated')),
      outcome('f0', 'failed', { error: new PamApiError({ kind: 'timeout', retryable: true, message: 'slow' }) }),
    ];
    await reportOutcomes(request(), false, many);
    const lines = logLines('Session outcome', from);
    expect(lines).toHaveLength(MAX_OUTCOME_LOG_LINES);
    expect(lines[0]).toMatchObject({ session_id: 'f0', outcome: 'failed', reason: 'brute force from 203.0.113.77' });
    expect(lines[0]).not.toHaveProperty('error');
    expect(lines[1]).toMatchObject({ session_id: 't0', outcome: 'terminated', dry_run: false, trigger: TRIGGER });
    expect(lines[1]).not.toHaveProperty('outcome_message');
    expect(lines[51]).toMatchObject({ outcome: 'already_ended', outcome_message: 'ended before' });
    expect(logLines('Termination report', from)).toMatchObject([
      {
        reason: 'brute force from 203.0.113.77',
        summary: { already_ended: 60, terminated: 50, failed: 1 },
        outcomes_logged: 100,
        outcomes_not_logged: 11,
      },
    ]);
  });

  it('logs the outcomes in order of importance', async () => {
    const kinds: OutcomeKind[] = ['would_block', 'would_terminate', 'blocked', 'already_ended', 'skipped_protected'];
    await reportOutcomes(request(), false, [
      ...kinds.map((kind) => outcome(kind, kind)),
      outcome('rejected', 'failed', { error: new SessionNotFoundError('no such session') }),
      outcome('terminated', 'terminated'),
    ]);
    expect(logLines('Session outcome', from).map((line) => line.outcome)).toEqual([
      'terminated',
      'rejected',
      'skipped_protected',
      'already_ended',
      'blocked',
      'would_terminate',
      'would_block',
    ]);
  });
});

describe('what the report tells a human and the metrics', () => {
  it('pages with the blocked sessions, the first 50 named, and how to confirm', async () => {
    const blocked = Array.from({ length: 52 }, (_, i) => outcome(`b${i}`, 'blocked'));
    await reportOutcomes(request(), false, blocked);
    expect(sent.notices).toHaveLength(1);
    const [subject, message] = sent.notices[0] ?? [];
    expect(subject).toBe('PAM session termination blocked: 52 sessions over the cap');
    expect(message).toEqual({
      what: '52 sessions matched a termination request, more than MAX_SESSIONS_PER_EVENT: none of them was terminated',
      reason: 'brute force from 203.0.113.77',
      requested_by: 'soc-analyst',
      trigger: TRIGGER,
      session_ids: blocked.slice(0, 50).map((o) => o.session_id),
      more: 2,
      to_confirm:
        'within 15 minutes, POST /sessions/terminate/confirm (IAM-signed, a permission of its own) with {"trigger_id": "evt-7f3a", "reason": "…"}: exactly these sessions are terminated; the audit event "PAM Session Termination Blocked" lists every one',
    });
    sent.notices.length = 0;
    await reportOutcomes(request(), false, blocked.slice(0, 50));
    expect(sent.notices[0]?.[1]).not.toHaveProperty('more');
  });

  it('counts each outcome kind, TimeToCut by trigger for each termination, the unconfirmed ones and the errors', async () => {
    const timeout = new PamApiError({ kind: 'timeout', retryable: true, message: 'slow' });
    await reportOutcomes(request(), false, [
      outcome('t1', 'terminated', { event_age_ms: 1_500, confirmed: false }),
      outcome('t2', 'terminated', { event_age_ms: 2_500, confirmed: null }),
      outcome('e1', 'already_ended'),
      outcome('f1', 'failed', { error: timeout }),
      outcome('f2', 'failed', { error: new PamApiError({ kind: 'timeout', retryable: true, message: 'slow' }) }),
    ]);
    const records = emfRecords(output.text().slice(from));
    const counts = records.find((record) => record.metrics.some((metric) => metric.Name === 'terminated'));
    expect(counts?.values).toMatchObject({ terminated: 2, already_ended: 1, failed: 2, TerminationUnconfirmed: 1 });
    expect(counts?.metrics).toContainEqual({ Name: 'terminated', Unit: 'Count' });
    const cuts = records.filter((record) => record.metrics.some((metric) => metric.Name === 'TimeToCut'));
    expect(cuts.map((record) => [record.values.trigger, record.values.TimeToCut])).toEqual([
      ['guardduty', 1_500],
      ['guardduty', 2_500],
    ]);
    expect(cuts[0]?.metrics).toEqual([{ Name: 'TimeToCut', Unit: 'Milliseconds' }]);
    expect(records.filter((record) => record.values.code === 'pam_timeout').map((r) => r.values.Errors)).toEqual([2]);
    expect(records.every((record) => record.namespace === 'PamSessionResponder')).toBe(true);
  });

  it("counts the errors of failed outcomes only: an id PAM does not have is the caller's mistake", async () => {
    await reportOutcomes(request(), false, [outcome('gone', 'failed', { error: new SessionNotFoundError('no such') })]);
    const records = emfRecords(output.text().slice(from));
    expect(records.find((record) => 'rejected' in record.values)?.values.rejected).toBe(1);
    expect(records.some((record) => record.values.code === 'session_not_found')).toBe(false);
  });

  it("counts a dry run's previews", async () => {
    await reportOutcomes(request({ dryRun: true }), true, [outcome('w1', 'would_terminate')]);
    const records = emfRecords(output.text().slice(from));
    expect(records.find((record) => 'would_terminate' in record.values)?.values.would_terminate).toBe(1);
  });

  it('counts a refused request, a failed write-back and the records S3 did not take, each on its own', () => {
    countRejectedRequest();
    countWriteBackFailure();
    countRecordWriteFailures(3);
    const records = emfRecords(output.text().slice(from));
    expect(records.map((record) => [record.metrics, record.values])).toEqual([
      [[{ Name: 'rejected', Unit: 'Count' }], expect.objectContaining({ rejected: 1 })],
      [[{ Name: 'WriteBackFailed', Unit: 'Count' }], expect.objectContaining({ WriteBackFailed: 1 })],
      [[{ Name: 'RecordWriteFailed', Unit: 'Count' }], expect.objectContaining({ RecordWriteFailed: 3 })],
    ]);
  });

  it('counts no failure in a dry run, and publishes nothing when nothing was counted', async () => {
    await reportOutcomes(request({ dryRun: true }), true, [
      outcome('f1', 'failed', { error: new PamApiError({ kind: 'timeout', retryable: true, message: 'slow' }) }),
    ]);
    const records = emfRecords(output.text().slice(from));
    expect(records.some((record) => 'failed' in record.values)).toBe(false);
    expect(records.some((record) => record.metrics.some((metric) => metric.Name === 'TimeToCut'))).toBe(false);
    expect(records.some((record) => 'TerminationUnconfirmed' in record.values)).toBe(false);
    // No count stored, none published (not even Powertools' warning about an empty flush); the error is counted.
    expect(records.map((record) => record.metrics.map((metric) => metric.Name))).toEqual([['Errors']]);
    expect(output.text().slice(from)).not.toMatch(/No application metrics to publish/);
  });

  it('counts no unconfirmed termination when every one was confirmed', async () => {
    await reportOutcomes(request(), false, [outcome('t1', 'terminated', { confirmed: true })]);
    const records = emfRecords(output.text().slice(from));
    expect(records.some((record) => 'TerminationUnconfirmed' in record.values)).toBe(false);
    expect(records.find((record) => 'terminated' in record.values)?.values.terminated).toBe(1);
  });
});
