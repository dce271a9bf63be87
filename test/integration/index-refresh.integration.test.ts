import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../infra/local/lambda-events.js';
import { type LocalPam, startLocalPam } from '../../infra/local/local-pam.js';
import { type SimulatedSession, seedSessions, sessionHash } from '../../infra/pam-simulator/seed-sessions.js';
import { INDEX_KEY } from '../../lib/inventory/active-index.js';
import { indexSessions as updateIndex } from '../../lib/inventory/index-sessions.js';
import { emfRecords } from '../support/emf.js';
import { type Handler, loadHandler } from '../support/handlers.js';
import { captureOutput } from '../support/output-capture.js';

/** The built index-sessions handler refreshing the index between full lists, against the simulator and s3rver. */
let local: LocalPam;
let indexSessions: Handler;
let s3: S3Client;
const output = captureOutput();
const ENV = ['TAIL_STOP_AFTER_MISSES', 'INDEX_MAX_LOOKUPS_PER_MINUTE', 'INDEX_FULL_LIST_MINUTES', 'PAM_MAX_ATTEMPTS'];

beforeAll(async () => {
  local = await startLocalPam();
  Object.assign(process.env, local.env, { PAM_RETRY_BASE_DELAY_MS: '5' });
  s3 = new S3Client({});
  indexSessions = await loadHandler('index-sessions', 'bundle');
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  await local.s3.clear();
  local.pam.sessions.splice(0, local.pam.sessions.length, ...seedSessions());
  local.pam.sessionsChanged();
  local.pam.clearFaults();
  local.pam.requests.length = 0;
});

afterEach(() => {
  for (const name of ENV) delete process.env[name];
});

const run = () => indexSessions({}, lambdaContext({ remainingMs: 60_000, functionName: 'index-sessions' }));

async function readIndex(): Promise<any> {
  const object = await s3.send(new GetObjectCommand({ Bucket: local.s3.bucket, Key: INDEX_KEY }));
  return JSON.parse((await object.Body?.transformToString()) ?? '');
}

async function putIndex(index: unknown): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: local.s3.bucket, Key: INDEX_KEY, Body: JSON.stringify(index) }));
}

/** A full list first, then what PAM is asked from here on. */
async function fullList(): Promise<any> {
  const summary = await run();
  expect(summary).toMatchObject({ kind: 'full_list', highest_id: 12 });
  local.pam.requests.length = 0;
  return readIndex();
}

/**
 * A full list a while ago: a list falling back right after one would wait for the last list's own duration again
 * (a slow PAM is not listed back to back), which on a loaded machine can outlast the test's next step.
 */
async function fullListAWhileAgo(): Promise<void> {
  const index = await fullList();
  await putIndex({ ...index, full_listed_at: new Date(Date.now() - 10_000).toISOString() });
}

function opened(id: number, ended = false): SimulatedSession {
  return {
    ...(seedSessions()[0] as SimulatedSession),
    id: String(id),
    session_id: sessionHash(`opened-${id}`),
    origin_ip: `198.51.100.${id}`,
    end: ended ? '2026-12-06 22:00:00' : null,
    time: ended ? '00:01:00' : null,
  };
}

const lookedUp = () =>
  local.pam.requests
    .filter((request) => request.endpoint === 'lookup')
    .map((request) => Number(request.path.split('/').pop()))
    .sort((a, b) => a - b);
const lists = () => local.pam.requests.filter((request) => request.endpoint === 'list');
const activeIds = (sessions: SimulatedSession[]) =>
  sessions.filter((session) => session.end === null).map((session) => Number(session.id));
const metricsSince = (mark: number) =>
  emfRecords(output.text().slice(mark)).flatMap((record) =>
    record.metrics.map(({ Name }) => [Name, record.values[Name]] as const),
  );

describe('index-sessions between full lists', () => {
  it('adds the sessions opened since and rechecks the active ones by lookup, without the list', async () => {
    const first = await fullList();
    const heldActive = activeIds(local.pam.sessions);
    const ending = local.pam.sessions.find((session) => session.user === 'mchen' && session.end === null);
    if (!ending) throw new Error('no open session of mchen');
    ending.end = '2026-12-06 22:30:00';
    local.pam.openSessions([opened(13), opened(14, true)]);

    const mark = output.text().length;
    const summary = await run();
    const index = await readIndex();

    expect(lists()).toEqual([]);
    // Each active session once, and the ids above 12 up to five misses past the newest.
    expect(lookedUp()).toEqual([...heldActive, 13, 14, 15, 16, 17, 18, 19].sort((a, b) => a - b));
    expect(summary).toMatchObject({
      kind: 'refresh',
      new_sessions: 2,
      highest_id: 14,
      lookups: heldActive.length + 7,
      lookups_this_minute: heldActive.length + 7,
      history_size: 14,
    });
    const activeNow = index.active.map((session: { session_id: string }) => session.session_id);
    expect(activeNow).toContain(opened(13).session_id);
    expect(activeNow).not.toContain(ending.session_id);
    expect(activeNow).toEqual([...activeNow].sort());
    expect(activeNow).toHaveLength(heldActive.length);
    expect(index.recently_ended.map((session: { session_id: string }) => session.session_id).sort()).toEqual(
      [ending.session_id, opened(14).session_id].sort(),
    );
    expect(index.recently_ended[0].seen_ended_at).toBe(index.listed_at);
    expect(Date.parse(index.listed_at)).toBeGreaterThan(Date.parse(first.listed_at));
    expect(index).toMatchObject({ full_listed_at: first.listed_at, highest_id: 14 });
    expect(metricsSince(mark)).toEqual(
      expect.arrayContaining([
        ['IndexLookups', heldActive.length + 7],
        ['IndexActiveSessions', heldActive.length],
      ]),
    );
    expect(metricsSince(mark).map(([name]) => name)).not.toContain('IndexListDuration');
  });

  it('walks over gaps shorter than TAIL_STOP_AFTER_MISSES and stops at the first as long', async () => {
    await fullList();
    local.pam.openSessions([opened(15), opened(18), opened(24)]);
    const summary = await run();
    expect(summary).toMatchObject({ kind: 'refresh', new_sessions: 2, highest_id: 18 });
    expect(lookedUp().filter((id) => id > 12)).toEqual([13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);

    process.env.TAIL_STOP_AFTER_MISSES = '6';
    local.pam.requests.length = 0;
    expect(await run()).toMatchObject({ kind: 'refresh', new_sessions: 1, highest_id: 24 });
    expect((await readIndex()).active.map((session: { id: string }) => session.id)).toEqual(
      expect.arrayContaining(['15', '18', '24']),
    );
  });

  it('leaves out a session PAM no longer has, as a full list would', async () => {
    await fullList();
    const gone = local.pam.sessions.findIndex((session) => session.end === null);
    const [removed] = local.pam.sessions.splice(gone, 1);
    local.pam.sessionsChanged();
    await run();
    const index = await readIndex();
    const ids = [...index.active, ...index.recently_ended].map((session: { session_id: string }) => session.session_id);
    expect(ids).not.toContain(removed?.session_id);
  });

  it('lists the whole history again once INDEX_FULL_LIST_MINUTES have passed', async () => {
    const first = await fullList();
    await putIndex({ ...first, full_listed_at: new Date(Date.now() - 61 * 60_000).toISOString() });
    expect(await run()).toMatchObject({ kind: 'full_list', highest_id: 12 });
    expect(lists()).toHaveLength(1);
    expect(lookedUp()).toEqual([]);

    process.env.INDEX_FULL_LIST_MINUTES = '120';
    await putIndex({ ...(await readIndex()), full_listed_at: new Date(Date.now() - 61 * 60_000).toISOString() });
    local.pam.requests.length = 0;
    expect(await run()).toMatchObject({ kind: 'refresh' });
  });

  it("a run's later updates only refresh: not a list even when one is due, nothing when lookups cannot answer", async () => {
    const first = await fullList();
    await putIndex({ ...first, full_listed_at: new Date(Date.now() - 61 * 60_000).toISOString() });
    expect(await updateIndex({ refreshOnly: true })).toMatchObject({ kind: 'refresh' });
    expect(lists()).toEqual([]);

    const refreshed = await readIndex();
    local.pam.requests.length = 0;
    local.pam.injectFault('lookup', {
      kind: 'status',
      status: 404,
      body: JSON.stringify({ message: 'no Route matched with those values' }),
    });
    expect(await updateIndex({ refreshOnly: true })).toMatchObject({
      skipped: expect.stringMatching(
        /^not refreshed by lookup \(PAM Core does not serve the one-session lookup.*the next run lists$/,
      ),
    });
    expect(lists()).toEqual([]);
    expect(await readIndex()).toEqual(refreshed);

    await local.s3.clear();
    expect(await updateIndex({ refreshOnly: true })).toMatchObject({ skipped: 'no index to refresh yet' });
    expect(local.pam.requests.filter((request) => request.endpoint !== 'lookup')).toEqual([]);
  });

  it('lists instead, and counts FullListFallback, when PAM refuses the lookup route', async () => {
    await fullListAWhileAgo();
    local.pam.injectFault('lookup', {
      kind: 'status',
      status: 404,
      body: JSON.stringify({ message: 'no Route matched with those values' }),
    });
    const mark = output.text().length;
    expect(await run()).toMatchObject({ kind: 'full_list' });
    expect(lists()).toHaveLength(1);
    expect(metricsSince(mark)).toContainEqual(['FullListFallback', 1]);
  });

  it('lists instead when more sessions opened than the budget leaves lookups for, counting those it sent', async () => {
    await fullListAWhileAgo();
    const active = activeIds(local.pam.sessions).length;
    process.env.INDEX_MAX_LOOKUPS_PER_MINUTE = String(active + 8);
    local.pam.openSessions(Array.from({ length: 10 }, (_, index) => opened(13 + index)));
    const mark = output.text().length;
    expect(await run()).toMatchObject({ kind: 'full_list', highest_id: 22, active: active + 10 });
    expect(lookedUp()).toEqual([13, 14, 15, 16, 17, 18, 19, 20]);
    expect(metricsSince(mark)).toEqual(
      expect.arrayContaining([
        ['IndexLookups', 8],
        ['FullListFallback', 1],
      ]),
    );
    expect((await readIndex()).lookup_window.lookups).toBe(8);
  });

  it('lists instead when a refresh needs more lookups than a whole minute allows', async () => {
    await fullListAWhileAgo();
    const perRefresh = activeIds(local.pam.sessions).length + 5;
    process.env.INDEX_MAX_LOOKUPS_PER_MINUTE = String(perRefresh - 1);
    const mark = output.text().length;
    expect(await run()).toMatchObject({ kind: 'full_list' });
    expect(lookedUp()).toEqual([]);
    expect(lists()).toHaveLength(1);
    expect(metricsSince(mark)).toContainEqual(['FullListFallback', 1]);
  });

  it('fails loudly, writing nothing, when a lookup fails otherwise', async () => {
    const first = await fullList();
    process.env.PAM_MAX_ATTEMPTS = '1';
    local.pam.injectFault('lookup', { kind: 'status', status: 503, body: '' });
    await expect(run()).rejects.toMatchObject({ name: 'PamApiError', status: 503 });
    expect(await readIndex()).toEqual(first);
  });

  it('keeps within INDEX_MAX_LOOKUPS_PER_MINUTE, counting the earlier runs of the minute, and waits beyond it', async () => {
    await fullList();
    const perRefresh = activeIds(local.pam.sessions).length + 5;
    process.env.INDEX_MAX_LOOKUPS_PER_MINUTE = String(2 * perRefresh - 1);
    expect(await run()).toMatchObject({ kind: 'refresh', lookups: perRefresh, lookups_this_minute: perRefresh });
    local.pam.requests.length = 0;
    const before = await readIndex();
    const mark = output.text().length;
    // A list would load PAM more than the lookups the minute has no room for: the next update refreshes.
    expect(await run()).toMatchObject({
      skipped: expect.stringMatching(
        new RegExp(`needs at least ${perRefresh} lookups .*, ${perRefresh - 1} are left this minute`),
      ),
    });
    expect(local.pam.requests).toEqual([]);
    expect(metricsSince(mark)).toContainEqual(['IndexRunSkipped', 1]);
    expect(metricsSince(mark)).not.toContainEqual(['FullListFallback', 1]);
    expect(await readIndex()).toEqual(before);

    // A new minute, a new budget.
    const index = await readIndex();
    expect(index.lookup_window.lookups).toBe(perRefresh);
    await putIndex({
      ...index,
      lookup_window: { ...index.lookup_window, started_at: new Date(Date.now() - 61_000).toISOString() },
    });
    expect(await run()).toMatchObject({ kind: 'refresh', lookups_this_minute: perRefresh });
  });
});
