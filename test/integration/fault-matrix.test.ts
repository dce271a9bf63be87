import { readFileSync } from 'node:fs';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dropEvent, lambdaContext, listEvent } from '../../infra/local/lambda-events.js';
import { type LocalPam, startLocalPam } from '../../infra/local/local-pam.js';
import { seedSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { renderFailureModes } from '../fault-matrix/failure-modes-doc.js';
import { type FaultPath, PAM_ACTED, PAM_FAULTS, PATHS, type PamFaultRow } from '../fault-matrix/pam-faults.js';
import { eventFixture } from '../support/fixtures.js';
import { type Handler, loadHandler } from '../support/handlers.js';
import { asJson } from '../support/json-result.js';
import { captureOutput } from '../support/output-capture.js';

let local: LocalPam;
let list: Handler;
let drop: Handler;
let exportHandler: Handler;
let s3: S3Client;
const output = captureOutput();
const FAULT_ENV = {
  PAM_MAX_ATTEMPTS: '3',
  PAM_RETRY_BASE_DELAY_MS: '5',
  PAM_LIST_TIMEOUT_MS: '250',
  PAM_DROP_TIMEOUT_MS: '250',
};

beforeAll(async () => {
  local = await startLocalPam();
  Object.assign(process.env, local.env, FAULT_ENV, { POWERTOOLS_METRICS_DISABLED: 'true' });
  s3 = new S3Client({});
  list = await loadHandler('list');
  drop = await loadHandler('drop');
  exportHandler = await loadHandler('export', 'bundle');
});

afterAll(async () => {
  for (const name of Object.keys(FAULT_ENV)) delete process.env[name];
  await local.close();
});

beforeEach(async () => {
  await local.s3.clear();
  local.pam.sessions.length = 0;
  local.pam.sessions.push(...seedSessions());
  local.pam.sessionsChanged();
  local.pam.clearFaults();
  local.pam.requests.length = 0;
  local.eventBridge.events.length = 0;
});

afterEach(async () => {
  // A dripping request may still be written to a client that left; the next case starts once the simulator is idle.
  await local.pam.idle();
});

/** What the operator read on each path: the row's `reads` for it, exactly. */
function expectReads(row: PamFaultRow, path: FaultPath, read: string | undefined) {
  const expected = row.reads[path];
  if (expected instanceof RegExp) expect(read).toMatch(expected);
  else expect(read).toBe(expected);
}

/** The "Session outcome" log lines written since `mark` (Powertools' JSON lines). */
function outcomeLogs(mark: number): Array<Record<string, unknown>> {
  return output
    .text()
    .slice(mark)
    .split('\n')
    .filter((line) => line.includes('"Session outcome"'))
    .map((line) => JSON.parse(line));
}

const target = () => local.pam.sessions.find((session) => session.user === 'mchen' && session.end === null);
const endpointRequests = (endpoint: 'list' | 'drop') =>
  local.pam.requests.filter((request) => request.endpoint === endpoint);
const objectKeys = async () =>
  ((await s3.send(new ListObjectsV2Command({ Bucket: local.s3.bucket }))).Contents ?? []).map((object) => object.Key);

function expectFreshNonces(endpoint: 'list' | 'drop', attempts: number) {
  const nonces = endpointRequests(endpoint).map((request) => request.nonce);
  expect(nonces).toHaveLength(attempts);
  expect(new Set(nonces).size).toBe(attempts);
}

/** The ids of the sessions the simulator holds open now. */
function openIdsNow() {
  return local.pam.sessions
    .filter((session) => session.end === null)
    .map((session) => session.session_id)
    .sort();
}

function activeIdsBut(except?: string) {
  return seedSessions()
    .filter((session) => session.end === null && session.session_id !== except)
    .map((session) => session.session_id)
    .sort();
}

const run: Record<FaultPath, (row: PamFaultRow) => Promise<void>> = {
  async list(row) {
    local.pam.injectFault('list', row.inject('list'), 3);
    const { statusCode, body } = asJson(await list(listEvent({ active: 'true' }), lambdaContext()));
    expect({ statusCode, code: body.error.code }).toEqual({ statusCode: row.httpStatus, code: row.code });
    expectReads(row, 'list', body.error.message);
    expectFreshNonces('list', row.attempts.list);
    expect(endpointRequests('drop')).toHaveLength(0);
  },
  async drop(row) {
    const session = target();
    local.pam.injectFault('drop', row.inject('drop'), 3);
    const { statusCode, body } = asJson(await drop(dropEvent(session?.session_id ?? ''), lambdaContext()));
    expect({ statusCode, code: body.error.code }).toEqual({ statusCode: row.httpStatus, code: row.code });
    expectReads(row, 'drop', body.error.message);
    expectFreshNonces('drop', row.attempts.drop);
    expect(endpointRequests('drop').every((request) => request.path.endsWith(session?.session_id ?? '-'))).toBe(true);
    expect(openIdsNow()).toEqual(activeIdsBut());
  },
  async match(row) {
    const session = target();
    local.pam.injectFault('drop', row.inject('drop'), 3);
    const request = eventFixture('termination-request-by-match');
    request.detail.match = { user: 'mchen' };
    const mark = output.text().length;
    await expect(drop(request, lambdaContext())).rejects.toMatchObject({ name: 'TerminationIncompleteError' });
    expectFreshNonces('drop', row.attempts.drop);
    expect(local.eventBridge.events).toEqual([
      expect.objectContaining({
        'detail-type': 'PAM Session Termination Failed',
        detail: expect.objectContaining({ session_id: session?.session_id, outcome: 'failed' }),
      }),
    ]);
    expectReads(row, 'match', (local.eventBridge.events[0]?.detail as { message?: string } | undefined)?.message);
    const logged = outcomeLogs(mark);
    expect(logged).toHaveLength(1);
    expectReads(row, 'match', logged[0]?.outcome_message as string | undefined);
    expect(openIdsNow()).toEqual(activeIdsBut());
  },
  async export(row) {
    const before = await objectKeys();
    local.pam.injectFault('list', row.inject('list'), 3);
    const remainingMs = row.code === 'pam_timeout' ? 1_200 : 60_000;
    const failure = await exportHandler({}, lambdaContext({ remainingMs })).then(
      () => undefined,
      (error: { code?: string; message: string }) => error,
    );
    expect(failure?.code).toBe(row.code);
    expectReads(row, 'export', failure?.message ?? '');
    expectFreshNonces('list', row.attempts.export);
    expect(await objectKeys()).toEqual(before);
    expect(local.eventBridge.events).toEqual([]);
    expect(endpointRequests('drop')).toHaveLength(0);
  },
};

describe('the PAM Core misbehaving, on every path', () => {
  for (const row of PAM_FAULTS) {
    for (const path of Object.keys(PATHS) as FaultPath[]) {
      it(`${row.id} on ${path}`, () => run[path](row), 30_000);
    }
  }
});

describe('PAM acting on the DELETE while the client cannot tell', () => {
  for (const row of PAM_ACTED) {
    it(`${row.id} on drop: the session is reported ${row.outcome}, not failed`, async () => {
      const session = target();
      local.pam.injectFault('drop', row.inject(), 3);
      const mark = output.text().length;
      const { statusCode, body } = asJson(await drop(dropEvent(session?.session_id ?? ''), lambdaContext()));
      expect({ statusCode, status: body.status }).toEqual({ statusCode: 200, status: row.outcome });
      // The single-session response carries no message: the operator reads it in the log.
      expect(outcomeLogs(mark)).toEqual([
        expect.objectContaining({ session_id: session?.session_id, outcome: row.outcome, outcome_message: row.reads }),
      ]);
      expectFreshNonces('drop', row.attempts);
      expect(openIdsNow()).toEqual(activeIdsBut(session?.session_id));
    }, 30_000);

    it(`${row.id} on match: reported ${row.outcome}, audited, and the event does not fail`, async () => {
      const session = target();
      local.pam.injectFault('drop', row.inject(), 3);
      const request = eventFixture('termination-request-by-match');
      request.detail.match = { user: 'mchen' };
      const mark = output.text().length;
      const report = await drop(request, lambdaContext());
      expect(outcomeLogs(mark)).toEqual([expect.objectContaining({ outcome_message: row.reads })]);
      expect(report.outcomes).toEqual([
        expect.objectContaining({ session_id: session?.session_id, outcome: row.outcome, message: row.reads }),
      ]);
      expectFreshNonces('drop', row.attempts);
      expect(local.eventBridge.events).toEqual([
        expect.objectContaining({
          detail: expect.objectContaining({
            session_id: session?.session_id,
            outcome: row.outcome,
            message: row.reads,
          }),
        }),
      ]);
      expect(openIdsNow()).toEqual(activeIdsBut(session?.session_id));
    }, 30_000);
  }
});

describe('docs/failure-modes.md', () => {
  it('is what the fault table says (npm run docs writes it)', () => {
    expect(readFileSync(new URL('../../docs/failure-modes.md', import.meta.url), 'utf8')).toBe(renderFailureModes());
  });
});
