import { readFileSync } from 'node:fs';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dropEvent, lambdaContext, listEvent } from '../../infra/local/lambda-events.js';
import { type LocalPam, startLocalPam } from '../../infra/local/local-pam.js';
import { seedSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { renderFailureModes } from '../fault-matrix/failure-modes-doc.js';
import { type FaultPath, PAM_FAULTS, PATHS, type PamFaultRow } from '../fault-matrix/pam-faults.js';
import { eventFixture } from '../support/fixtures.js';
import { type Handler, loadHandler } from '../support/handlers.js';
import { asJson } from '../support/json-result.js';

let local: LocalPam;
let list: Handler;
let drop: Handler;
let exportHandler: Handler;
let s3: S3Client;
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

let settle = false;

afterEach(async () => {
  // A delayed or dripping request is still being answered by the simulator; let it finish before the next case.
  if (settle) await new Promise((resolve) => setTimeout(resolve, 1_600));
  settle = false;
});

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
    expectFreshNonces('list', row.attempts.list);
    expect(endpointRequests('drop')).toHaveLength(0);
  },
  async drop(row) {
    const session = target();
    local.pam.injectFault('drop', row.inject('drop'), 3);
    const { statusCode, body } = asJson(await drop(dropEvent(session?.session_id ?? ''), lambdaContext()));
    expect({ statusCode, code: body.error.code }).toEqual({ statusCode: row.httpStatus, code: row.code });
    expectFreshNonces('drop', row.attempts.drop);
    expect(endpointRequests('drop').every((request) => request.path.endsWith(session?.session_id ?? '-'))).toBe(true);
    expect(openIdsNow()).toEqual(activeIdsBut());
  },
  async match(row) {
    const session = target();
    local.pam.injectFault('drop', row.inject('drop'), 3);
    const request = eventFixture('termination-request-by-match');
    request.detail.match = { user: 'mchen' };
    await expect(drop(request, lambdaContext())).rejects.toMatchObject({ name: 'TerminationIncompleteError' });
    expectFreshNonces('drop', row.attempts.drop);
    expect(local.eventBridge.events).toEqual([
      expect.objectContaining({
        'detail-type': 'PAM Session Termination Failed',
        detail: expect.objectContaining({ session_id: session?.session_id, outcome: 'failed' }),
      }),
    ]);
    expect(openIdsNow()).toEqual(activeIdsBut());
  },
  async export(row) {
    const before = await objectKeys();
    local.pam.injectFault('list', row.inject('list'), 3);
    const remainingMs = row.code === 'pam_timeout' ? 1_200 : 60_000;
    await expect(exportHandler({}, lambdaContext({ remainingMs }))).rejects.toMatchObject({ code: row.code });
    expectFreshNonces('list', row.attempts.export);
    expect(await objectKeys()).toEqual(before);
    expect(local.eventBridge.events).toEqual([]);
    expect(endpointRequests('drop')).toHaveLength(0);
  },
};

describe('the PAM Core misbehaving, on every path', () => {
  for (const row of PAM_FAULTS) {
    for (const path of Object.keys(PATHS) as FaultPath[]) {
      it(`${row.id} on ${path}`, () => {
        settle = row.code === 'pam_timeout';
        return run[path](row);
      }, 30_000);
    }
  }
});

describe('docs/failure-modes.md', () => {
  it('is what the fault table says (npm run docs writes it)', () => {
    expect(readFileSync(new URL('../../docs/failure-modes.md', import.meta.url), 'utf8')).toBe(renderFailureModes());
  });
});
