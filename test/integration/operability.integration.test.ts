import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dropEvent, lambdaContext } from '../../infra/local/lambda-events.js';
import { type LocalPam, startLocalPam } from '../../infra/local/local-pam.js';
import { generateSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { type EmfRecord, emfRecords } from '../support/emf.js';
import { eventFixture } from '../support/fixtures.js';
import { type Handler, loadHandler } from '../support/handlers.js';
import { asJson } from '../support/json-result.js';
import { resetLocalPam } from '../support/local-reset.js';
import { captureOutput } from '../support/output-capture.js';

// What on-call sees of drop, through the built bundle against the simulator: which events are acted on, what a dry
// run and a mistyped id count as, how many log lines a request writes, and which error codes are counted.
let local: LocalPam;
let drop: Handler;
const output = captureOutput();
const SETTINGS = ['MAX_SESSIONS_PER_EVENT', 'DRY_RUN', 'MAX_EVENT_AGE_MINUTES'];

beforeAll(async () => {
  local = await startLocalPam();
  Object.assign(process.env, local.env, { PAM_RETRY_BASE_DELAY_MS: '5', PAM_MAX_ATTEMPTS: '1' });
  drop = await loadHandler('drop');
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  await resetLocalPam(local);
});

afterEach(() => {
  for (const name of SETTINGS) delete process.env[name];
});

/** What the call writes to the logs: `run` between two marks of the recording. */
async function logsOf<T>(run: () => Promise<T>): Promise<{ result: T; logs: string }> {
  const before = output.text().length;
  const result = await run();
  return { result, logs: output.text().slice(before) };
}

/** The value each EMF record gives `name`, with the record's dimensions. */
function metricValues(records: EmfRecord[], name: string): Array<{ value: unknown; dimensions: string[] }> {
  return records
    .filter((record) => record.metrics.some((metric) => metric.Name === name))
    .map((record) => ({ value: record.values[name], dimensions: record.dimensions.flat() }));
}

const drops = () => local.pam.requests.filter((request) => request.endpoint === 'drop');

describe('an event older than MAX_EVENT_AGE_MINUTES', () => {
  it('is not acted on: nothing is sent to PAM, an audit event says why, and no TimeToCut is counted', async () => {
    const event = eventFixture('guardduty-cryptocurrency-instance');
    event.time = new Date(Date.now() - 61 * 60_000).toISOString();
    const { result: report, logs } = await logsOf(() => drop(event, lambdaContext()));
    expect(report).toMatchObject({
      outcomes: [],
      ignored: 'the event is 61 minutes old, older than MAX_EVENT_AGE_MINUTES (60): not acted on',
    });
    expect(local.pam.requests).toEqual([]);
    expect(local.eventBridge.events).toEqual([
      expect.objectContaining({
        source: 'pam.session-responder',
        'detail-type': 'PAM Session Termination Ignored',
        detail: expect.objectContaining({
          ignored: report.ignored,
          trigger: expect.objectContaining({ event_id: event.id }),
        }),
      }),
    ]);
    expect(metricValues(emfRecords(logs), 'TimeToCut')).toEqual([]);
  });

  it('is acted on while younger than the bound, which MAX_EVENT_AGE_MINUTES moves', async () => {
    const event = eventFixture('guardduty-cryptocurrency-instance');
    event.time = new Date(Date.now() - 59 * 60_000).toISOString();
    const young = await drop(event, lambdaContext());
    expect(young.summary).toEqual({ terminated: 1 });

    process.env.MAX_EVENT_AGE_MINUTES = '30';
    const older = eventFixture('guardduty-rdp-bruteforce-inbound');
    older.time = new Date(Date.now() - 31 * 60_000).toISOString();
    expect((await drop(older, lambdaContext())).ignored).toMatch(/MAX_EVENT_AGE_MINUTES \(30\)/);
  });
});

describe('a dry run', () => {
  it('over the cap reports would_block, pages nobody, and counts neither blocked nor failed', async () => {
    process.env.MAX_SESSIONS_PER_EVENT = '2';
    const { result: report, logs } = await logsOf(() =>
      drop(eventFixture('termination-request-dry-run'), lambdaContext()),
    );
    expect(report.dry_run).toBe(true);
    expect(report.summary).toEqual({ would_block: 3 });
    expect(drops()).toEqual([]);
    expect(local.sns.notices).toEqual([]);
    const records = emfRecords(logs);
    expect(metricValues(records, 'would_block').map((metric) => metric.value)).toEqual([3]);
    expect(metricValues(records, 'blocked')).toEqual([]);
    expect(metricValues(records, 'failed')).toEqual([]);
    expect(local.eventBridge.events.map((event) => event['detail-type'])).toEqual(['PAM Session Termination Skipped']);
  });

  it('and the same request for real blocks, pages and counts blocked', async () => {
    process.env.MAX_SESSIONS_PER_EVENT = '2';
    const request = eventFixture('termination-request-dry-run');
    request.detail.dry_run = false;
    const { result: report, logs } = await logsOf(() => drop(request, lambdaContext()));
    expect(report.summary).toEqual({ blocked: 3 });
    expect(local.sns.notices).toHaveLength(1);
    expect(metricValues(emfRecords(logs), 'blocked').map((metric) => metric.value)).toEqual([3]);
  });
});

describe('an id the PAM Core does not have', () => {
  it('is rejected, not failed: 404 to the caller, counted as rejected, and the event is not retried', async () => {
    const unknown = 'f'.repeat(40);
    const { result, logs } = await logsOf(() => drop(dropEvent(unknown), lambdaContext()));
    const { statusCode, body } = asJson(result);
    expect(statusCode).toBe(404);
    expect(body.error.code).toBe('session_not_found');
    const records = emfRecords(logs);
    expect(metricValues(records, 'rejected').map((metric) => metric.value)).toEqual([1]);
    expect(metricValues(records, 'failed')).toEqual([]);

    const request = eventFixture('termination-request-by-match');
    request.detail = { session_ids: [unknown], reason: 'a mistyped id' };
    const report = await drop(request, lambdaContext());
    expect(report.summary).toEqual({ rejected: 1 });
    expect(local.eventBridge.events.map((event) => event['detail-type'])).toContain('PAM Session Termination Rejected');
  });
});

describe('an id that is not one', () => {
  it('is refused with 400 before anything is sent, and counted as rejected and as invalid_request, never failed', async () => {
    const { result, logs } = await logsOf(() => drop(dropEvent('not valid'), lambdaContext()));
    expect(asJson(result).statusCode).toBe(400);
    expect(local.pam.requests).toEqual([]);
    const records = emfRecords(logs);
    expect(metricValues(records, 'rejected').map((metric) => metric.value)).toEqual([1]);
    expect(metricValues(records, 'failed')).toEqual([]);
    expect(records.filter((record) => record.values.code === 'invalid_request')).toHaveLength(1);
  });
});

describe('errors, counted by code', () => {
  it('counts a drop PAM refused for its credentials as pam_unauthorized, beside the failed outcome', async () => {
    const target = local.pam.sessions.find((session) => session.end === null && session.user !== 'break_glass');
    // Every attempt (a 401 is retried once with fresh credentials).
    local.pam.injectFault('drop', { kind: 'status', status: 401, body: '{"response":{"status":401}}' }, 5);
    const request = eventFixture('termination-request-by-match');
    request.detail = { session_ids: [target?.session_id], reason: 'credentials expired' };
    const { logs } = await logsOf(() => drop(request, lambdaContext()).catch((error: Error) => error));
    const errors = metricValues(emfRecords(logs), 'Errors');
    expect(errors).toContainEqual({ value: 1, dimensions: ['service', 'code'] });
    const codes = emfRecords(logs)
      .filter((record) => record.metrics.some((metric) => metric.Name === 'Errors'))
      .map((record) => record.values.code);
    expect(codes).toContain('pam_unauthorized');
    expect(metricValues(emfRecords(logs), 'failed').map((metric) => metric.value)).toEqual([1]);
  });
});

describe('errors, counted once', () => {
  it('counts a DELETE that PAM refused for its credentials once, though its outcome and its response both carry it', async () => {
    const target = local.pam.sessions.find((session) => session.end === null && session.user !== 'break_glass');
    local.pam.injectFault('drop', { kind: 'status', status: 401, body: '{"response":{"status":401}}' }, 5);
    const { result, logs } = await logsOf(() => drop(dropEvent(target?.session_id ?? ''), lambdaContext()));
    expect(asJson(result).body.error.code).toBe('pam_unauthorized');
    const counted = emfRecords(logs)
      .filter((record) => record.values.code === 'pam_unauthorized')
      .map((record) => record.values.Errors);
    expect(counted).toEqual([1]);
  });
});

describe('the logs of one request', () => {
  it('hold one summary line and at most 100 outcome lines, however many sessions matched', async () => {
    process.env.MAX_SESSIONS_PER_EVENT = '5';
    const many = generateSessions(2_000).map((session) => ({ ...session, user: 'flood', end: null }));
    local.pam.sessions.push(...many);
    local.pam.sessionsChanged();
    const request = eventFixture('termination-request-by-match');
    request.detail = { match: { user: 'flood' }, reason: 'a flood from one account' };
    const { result: report, logs } = await logsOf(() => drop(request, lambdaContext()));
    expect(report.summary).toEqual({ blocked: 2_000 });
    const lines = logs.split('\n');
    expect(lines.filter((line) => line.includes('"message":"Session outcome"'))).toHaveLength(100);
    const summaries = lines.filter((line) => line.includes('"message":"Termination report"'));
    expect(summaries).toHaveLength(1);
    expect(JSON.parse(summaries[0] ?? '{}')).toMatchObject({
      summary: { blocked: 2_000 },
      outcomes_logged: 100,
      outcomes_not_logged: 1_900,
    });
  });
});
