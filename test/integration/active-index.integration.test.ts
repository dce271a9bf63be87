import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpApiEvent, lambdaContext, listEvent } from '../../infra/local/lambda-events.js';
import type { LocalPam } from '../../infra/local/local-pam.js';
import { generateSessions, type SimulatedSession, seedSessions } from '../../infra/pam-simulator/seed-sessions.js';
import type { RecordedRequest } from '../../infra/pam-simulator/server.js';
import { forgetCachedIndex, INDEX_KEY } from '../../lib/inventory/active-index.js';
import { emfRecords } from '../support/emf.js';
import { eventFixture } from '../support/fixtures.js';
import { responseSizes } from '../support/handlers.js';
import { asJson } from '../support/json-result.js';
import { type Handler, startLocalHandlers } from '../support/local-handlers.js';
import { captureOutput } from '../support/output-capture.js';

let local: LocalPam;
let list: Handler;
let drop: Handler;
let indexSessions: Handler;
let s3: S3Client;
const output = captureOutput();
/** For each DELETE: whether a list was still being sent when it arrived, and how many had been sent in full. */
const dropArrivals: Array<{ listing: boolean; listsDone: number }> = [];
const ENV = [
  'PROTECTED_USERS',
  'MAX_SESSIONS_PER_EVENT',
  'INDEX_MAX_AGE_SECONDS',
  'INDEX_RECHECK_SECONDS',
  'DRY_RUN',
  'PAM_MAX_ATTEMPTS',
];

beforeAll(async () => {
  ({ local, list, drop, indexSessions } = await startLocalHandlers(
    {
      onRequest: (request: RecordedRequest) => {
        if (request.endpoint !== 'drop') return;
        const lists = local.pam.requests.filter((earlier) => earlier.endpoint === 'list');
        dropArrivals.push({
          listing: lists.some((earlier) => earlier.status === 0),
          listsDone: lists.filter((earlier) => earlier.status !== 0).length,
        });
      },
    },
    { PAM_RETRY_BASE_DELAY_MS: '5' },
  ));
  s3 = new S3Client({});
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  await local.s3.clear();
  // Each test starts without this container's copy of an earlier test's index.
  forgetCachedIndex();
  serve(seedSessions());
  dropArrivals.length = 0;
});

afterEach(() => {
  for (const name of ENV) delete process.env[name];
});

/** The highest numeric id the PAM Core has: a session opened now gets the next one. */
const highestId = () => Math.max(...local.pam.sessions.map((session) => Number(session.id)).filter(Number.isFinite));

function serve(sessions: SimulatedSession[]): void {
  local.pam.sessions.splice(0, local.pam.sessions.length, ...sessions);
  local.pam.sessionsChanged();
  local.pam.requests.length = 0;
}

const pamCalls = (endpoint: 'list' | 'drop' | 'lookup') =>
  local.pam.requests.filter((request) => request.endpoint === endpoint);
const dropped = () => pamCalls('drop').map((request) => request.path.split('/').pop());
const seeded = (user: string, device: string) => {
  const session = local.pam.sessions.find((s) => s.user === user && s.device === device);
  if (!session) throw new Error(`no session of ${user} into ${device}`);
  return session;
};
const outcomesOf = (report: { outcomes: Array<{ session_id: string; outcome: string; resolved_from: string }> }) =>
  Object.fromEntries(
    report.outcomes.map((outcome) => [outcome.session_id, `${outcome.outcome} (${outcome.resolved_from})`]),
  );

async function writeIndex(): Promise<void> {
  const summary = await indexSessions({}, lambdaContext({ remainingMs: 60_000 }));
  expect(summary.skipped).toBeUndefined();
  local.pam.requests.length = 0;
}

/** The session ends in PAM, the indexer runs again, and this container reads the new index, not its copy. */
async function endedAndIndexed(session: ReturnType<typeof seeded>): Promise<void> {
  session.end = '2026-11-23 10:00:00';
  local.pam.sessionsChanged();
  await writeIndex();
  forgetCachedIndex();
}

async function readIndex(): Promise<any> {
  const object = await s3.send(new GetObjectCommand({ Bucket: local.s3.bucket, Key: INDEX_KEY }));
  return JSON.parse((await object.Body?.transformToString()) ?? '');
}

async function putIndex(body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: local.s3.bucket, Key: INDEX_KEY, Body: body }));
}

function request(detail: Record<string, unknown>, id = `req-${Math.random()}`) {
  return {
    ...eventFixture('termination-request-by-id'),
    id,
    detail: { reason: 'SOAR playbook: contain the account', requested_by: 'soar', ...detail },
  };
}

describe('index-sessions', () => {
  it('writes every active session, in session_id order, and how long the history is', async () => {
    const summary = await indexSessions({}, lambdaContext({ remainingMs: 60_000 }));
    const index = await readIndex();
    const active = local.pam.sessions.filter((session) => session.end === null).map((session) => session.session_id);
    expect(summary).toMatchObject({ history_size: 12, active: active.length, recently_ended: 0, malformed: 0 });
    expect(index.active.map((session: { session_id: string }) => session.session_id)).toEqual([...active].sort());
    // The simulator writes open sessions' `end` as null, missing, "" and "0000-00-00 00:00:00" in turn: all are active.
    expect(index.active.every((session: { active: boolean }) => session.active)).toBe(true);
    expect(new Set(index.active.map((session: { end: string | null }) => session.end))).toEqual(
      new Set([null, '', '0000-00-00 00:00:00']),
    );
    expect(index.history_size).toBe(12);
    expect(Date.now() - Date.parse(index.listed_at)).toBeLessThan(60_000);
  });

  it('keeps the sessions it saw end since its last run as recently ended', async () => {
    await writeIndex();
    const target = seeded('mchen', '10.66.40.21:3389');
    await drop({ session_id: target.session_id }, lambdaContext());
    // The last list was a few milliseconds long: waiting that long again is enough.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await writeIndex();
    const index = await readIndex();
    expect(index.recently_ended).toEqual([
      expect.objectContaining({ session_id: target.session_id, active: false, seen_ended_at: index.listed_at }),
    ]);
    expect(index.active.map((session: { session_id: string }) => session.session_id)).not.toContain(target.session_id);
  });

  it('without lookups to refresh by, does not list again before as long as its last list took has passed', async () => {
    await writeIndex();
    const index = await readIndex();
    await putIndex(
      JSON.stringify({
        ...index,
        listed_at: new Date().toISOString(),
        full_listed_at: undefined,
        list_duration_ms: 120_000,
        highest_id: null,
      }),
    );
    const summary = await indexSessions({}, lambdaContext({ remainingMs: 60_000 }));
    expect(summary.skipped).toMatch(/the last list took 120000 ms; the next may start at/);
    expect(pamCalls('list')).toEqual([]);
  });
});

describe('index-sessions metrics', () => {
  const indexRecords = (since: number) =>
    emfRecords(output.text().slice(since)).filter((record) =>
      record.metrics.some(({ Name }) => Name.startsWith('Index')),
    );

  it('emits the list duration and the active sessions, and no IndexAge when there was no index to replace', async () => {
    const mark = output.text().length;
    const summary = await indexSessions({}, lambdaContext({ remainingMs: 60_000 }));
    expect(indexRecords(mark)).toEqual([
      {
        namespace: 'PamSessionResponder',
        dimensions: [['service']],
        metrics: [
          { Name: 'IndexListDuration', Unit: 'Milliseconds' },
          { Name: 'IndexActiveSessions', Unit: 'Count' },
        ],
        values: {
          service: 'pam-session-responder',
          IndexListDuration: summary.list_duration_ms,
          IndexActiveSessions: summary.active,
        },
      },
    ]);
  });

  it('emits IndexAge: how old the index it replaced was when the new one was written', async () => {
    await writeIndex();
    const replaced = Date.parse((await readIndex()).listed_at);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const mark = output.text().length;
    const summary = await indexSessions({}, lambdaContext({ remainingMs: 60_000 }));
    const after = Date.now();
    const [record, ...more] = indexRecords(mark);
    expect(more).toEqual([]);
    expect(record?.metrics).toContainEqual({ Name: 'IndexAge', Unit: 'Milliseconds' });
    const age = record?.values.IndexAge as number;
    // At least the gap between the two lists' starts, at most until after the new index was written.
    expect(age).toBeGreaterThanOrEqual(Date.parse(summary.listed_at) - replaced);
    expect(age).toBeLessThanOrEqual(after - replaced);
  });

  it('counts a tick that does not list as IndexRunSkipped, and emits nothing else', async () => {
    await writeIndex();
    await putIndex(
      JSON.stringify({
        ...(await readIndex()),
        listed_at: new Date().toISOString(),
        full_listed_at: undefined,
        list_duration_ms: 120_000,
        highest_id: null,
      }),
    );
    const mark = output.text().length;
    const summary = await indexSessions({}, lambdaContext({ remainingMs: 60_000 }));
    expect(summary.skipped).toBeDefined();
    expect(indexRecords(mark)).toEqual([
      {
        namespace: 'PamSessionResponder',
        dimensions: [['service']],
        metrics: [{ Name: 'IndexRunSkipped', Unit: 'Count' }],
        values: { service: 'pam-session-responder', IndexRunSkipped: 1 },
      },
    ]);
  });
});

describe('a termination by id, with a fresh index', () => {
  it('sends the DELETE at once and lists nothing', async () => {
    await writeIndex();
    const target = seeded('jsilva', '10.66.33.17:22');
    const response = await drop({ session_id: target.session_id }, lambdaContext());
    expect(response).toMatchObject({ session_id: target.session_id, status: 'terminated', resolved_from: 'index' });
    expect(response.index_age_ms).toBeGreaterThanOrEqual(0);
    // The lookup after the DELETE confirms the session ended (`confirmed`).
    expect(local.pam.requests.map((r) => r.endpoint)).toEqual(['drop', 'lookup']);
  });

  it('decides from the copy this container holds while it is fresh, and refreshes it after the DELETE', async () => {
    process.env.INDEX_RECHECK_SECONDS = '0';
    await writeIndex();
    const [first, second, third] = ['jsilva', 'mchen', 'pgarcia'].map(
      (user) => local.pam.sessions.find((s) => s.user === user && s.end === null)!,
    );
    expect(await drop({ session_id: first!.session_id }, lambdaContext())).toMatchObject({ resolved_from: 'index' });
    // The object goes; the held copy, still fresh, decides the next cut with no request before its DELETE…
    const listedAt = Date.parse((await readIndex()).listed_at);
    await local.s3.clear();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const held = await drop({ session_id: second!.session_id }, lambdaContext());
    expect(held).toMatchObject({ resolved_from: 'index' });
    // …with the age of the copy it decided from.
    expect(held.index_age_ms).toBeGreaterThanOrEqual(30);
    expect(held.index_age_ms).toBeLessThanOrEqual(Date.now() - listedAt);
    // …and the refresh that ran after it found the index gone: the next one asks the live list.
    expect(await drop({ session_id: third!.session_id }, lambdaContext())).toMatchObject({ resolved_from: 'live' });
  });

  it('knows an ended session from the index without asking PAM', async () => {
    await writeIndex();
    const ended = seeded('mchen', '10.66.40.21:3389');
    ended.end = '2026-11-23 10:00:00';
    local.pam.sessionsChanged();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await writeIndex();
    const response = await drop({ session_id: ended.session_id }, lambdaContext());
    expect(response).toMatchObject({ status: 'already_ended', resolved_from: 'index' });
    expect(local.pam.requests).toEqual([]);
  });

  it('skips a protected session found through the index, sending nothing', async () => {
    await writeIndex();
    process.env.PROTECTED_USERS = 'break_glass';
    const target = seeded('break_glass', '10.66.40.1:3389');
    const report = await drop(request({ session_id: target.session_id }), lambdaContext());
    expect(outcomesOf(report)).toEqual({ [target.session_id]: 'skipped_protected (index)' });
    expect(local.pam.requests).toEqual([]);
  });

  it('falls back to the live list for an id the index lacks, and sends the DELETE as its record arrives', async () => {
    await writeIndex();
    const sessions = generateSessions(20_000, { activeCount: 500 });
    const late = sessions[10] as SimulatedSession;
    late.end = null;
    serve([...local.pam.sessions, ...sessions]);
    local.pam.injectFault('list', { kind: 'drip', bytesPerWrite: 256 * 1024, pauseMs: 40 });
    const response = await drop({ session_id: late.session_id }, lambdaContext({ remainingMs: 60_000 }));
    expect(response).toMatchObject({ status: 'terminated', resolved_from: 'live' });
    expect(dropped()).toEqual([late.session_id]);
    // The list was still arriving when the DELETE went out.
    expect(dropArrivals).toEqual([{ listing: true, listsDone: 0 }]);
  });
});

describe('an unusable index', () => {
  const id = () => seeded('jsilva', '10.66.33.17:22').session_id;

  it.each([
    ['missing', async () => undefined, /does not exist yet/],
    [
      'stale',
      async () => {
        await writeIndex();
        process.env.INDEX_MAX_AGE_SECONDS = '60';
        const index = await readIndex();
        await putIndex(JSON.stringify({ ...index, listed_at: new Date(Date.now() - 3_600_000).toISOString() }));
      },
      /listed 3600 s ago, more than INDEX_MAX_AGE_SECONDS \(60\)/,
    ],
    ['corrupted', async () => putIndex('{"version":1,"listed_at":"yesterday"'), /is corrupted: it is not valid JSON/],
    [
      'not an index',
      async () => putIndex(JSON.stringify({ version: 1, listed_at: new Date().toISOString(), active: 'all' })),
      /is corrupted: /,
    ],
  ])('is ignored when %s: logged, and the live list decides', async (_name, prepare, reason) => {
    await prepare();
    const target = id();
    const response = await drop({ session_id: target }, lambdaContext());
    expect(response).toMatchObject({ status: 'terminated', resolved_from: 'live', index_age_ms: null });
    expect(local.pam.requests.map((r) => r.endpoint)).toEqual(['list', 'drop', 'lookup']);
    const warning = output
      .text()
      .split('\n')
      .filter((line) => line.includes('The active-session index cannot decide'))
      .at(-1);
    expect(warning).toMatch(reason);
  });
});

describe('an index that is wrong', () => {
  it('is not believed when it says it was listed in the future', async () => {
    await writeIndex();
    const index = await readIndex();
    await putIndex(JSON.stringify({ ...index, listed_at: new Date(Date.now() + 3_600_000).toISOString() }));
    const response = await drop({ session_id: seeded('jsilva', '10.66.33.17:22').session_id }, lambdaContext());
    expect(response).toMatchObject({ status: 'terminated', resolved_from: 'live' });
    expect(output.text()).toMatch(/the index says it was listed in the future/);
  });

  it('is taken at its word for the ids it covers (only index-sessions may write it): no list to second-guess it', async () => {
    await writeIndex();
    const index = await readIndex();
    const [shown, ...rest] = index.active.filter((session: { user: string }) => session.user === 'aoliveira');
    await putIndex(
      JSON.stringify({
        ...index,
        active: index.active.filter((session: { session_id: string }) => session.session_id !== shown.session_id),
        recently_ended: [{ ...shown, active: false, seen_ended_at: index.listed_at }],
      }),
    );
    const report = await drop(request({ match: { user: 'aoliveira' } }), lambdaContext());
    expect(outcomesOf(report)).toEqual({ [rest[0].session_id]: 'terminated (index)' });
    expect(pamCalls('list')).toEqual([]);
  });

  it('leaves out, rather than calls ended, a session missing from a list cut short', async () => {
    await writeIndex();
    const target = seeded('jsilva', '10.66.33.17:22');
    serve(local.pam.sessions.filter((session) => session.session_id !== target.session_id));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await writeIndex();
    const index = await readIndex();
    expect(index.recently_ended).toEqual([]);
    expect(index.active.map((session: { session_id: string }) => session.session_id)).not.toContain(target.session_id);
  });
});

describe('a termination by match', () => {
  it('terminates what the index knows at once, then a session opened after the index, found by lookup, not the list', async () => {
    await writeIndex();
    const known = seeded('aoliveira', '10.66.50.9:22');
    const opened = { ...known, id: String(highestId() + 1), session_id: 'f'.repeat(40), device: '10.66.50.77:22' };
    serve([...local.pam.sessions, opened]);
    const report = await drop(request({ match: { user: 'aoliveira' } }), lambdaContext());
    expect(outcomesOf(report)).toEqual({
      [known.session_id]: 'terminated (index)',
      [seeded('aoliveira', '10.66.50.10:22').session_id]: 'terminated (index)',
      [opened.session_id]: 'terminated (live)',
    });
    // The walk over new ids found it (then TAIL_STOP_AFTER_MISSES misses in a row); the history was not listed.
    expect(pamCalls('list')).toEqual([]);
    expect(pamCalls('drop')).toHaveLength(3);
  });

  it('keeps the cap across both phases: the live list adds no more than the cap allows', async () => {
    await writeIndex();
    process.env.MAX_SESSIONS_PER_EVENT = '2';
    const opened = { ...seeded('aoliveira', '10.66.50.9:22'), id: String(highestId() + 1), session_id: 'f'.repeat(40) };
    serve([...local.pam.sessions, opened]);
    const report = await drop(request({ match: { user: 'aoliveira' } }), lambdaContext());
    expect(report.summary).toEqual({ terminated: 2, blocked: 1 });
    expect(outcomesOf(report)[opened.session_id]).toBe('blocked (live)');
    expect(dropped()).toHaveLength(2);
  });

  it('never blocks on the index alone: over the cap on its word, the live list decides, and still blocks what is over', async () => {
    await writeIndex();
    process.env.MAX_SESSIONS_PER_EVENT = '1';
    const report = await drop(request({ match: { user: 'aoliveira' } }), lambdaContext());
    expect(report.summary).toEqual({ blocked: 2 });
    expect(Object.values(outcomesOf(report))).toEqual(['blocked (live)', 'blocked (live)']);
    // Each candidate confirmed by one lookup; the history is not listed.
    expect(pamCalls('lookup')).toHaveLength(2);
    expect(pamCalls('list')).toEqual([]);
    expect(dropped()).toEqual([]);
  });

  it('a stale index is no immunity: sessions that ended since it was written are not counted against the cap', async () => {
    await writeIndex();
    process.env.MAX_SESSIONS_PER_EVENT = '1';
    // The attacker ends one of the two sessions the (still fresh) index shows: the other alone fits the cap.
    seeded('aoliveira', '10.66.50.9:22').end = '2026-11-23 10:00:00';
    local.pam.sessionsChanged();
    const report = await drop(request({ match: { user: 'aoliveira' } }), lambdaContext());
    expect(outcomesOf(report)).toEqual({
      [seeded('aoliveira', '10.66.50.9:22').session_id]: 'already_ended (live)',
      [seeded('aoliveira', '10.66.50.10:22').session_id]: 'terminated (index)',
    });
    expect(dropped()).toEqual([seeded('aoliveira', '10.66.50.10:22').session_id]);
    expect(pamCalls('list')).toEqual([]);
  });
});

describe("PAM failing to say what opened since the index, after the index's sessions were terminated", () => {
  const post = (body: unknown) => ({
    ...httpApiEvent({ method: 'POST', routeKey: 'POST /sessions/terminate', rawPath: '/sessions/terminate' }),
    body: JSON.stringify(body),
  });

  it('tells an HTTP caller what was done, and that the rest was not', async () => {
    await writeIndex();
    process.env.PAM_MAX_ATTEMPTS = '1';
    local.pam.injectFault('lookup', { kind: 'status', status: 503, body: '<html>Service Unavailable</html>' });
    const { statusCode, body } = asJson(
      await drop(post({ match: { user: 'aoliveira' }, reason: 'contain' }), lambdaContext()),
    );
    delete process.env.PAM_MAX_ATTEMPTS;
    expect(statusCode).toBe(200);
    expect(body.summary).toEqual({ terminated: 2 });
    expect(body.incomplete).toMatchObject({ code: 'pam_bad_response' });
    expect(body.incomplete.message).toMatch(/sessions it would have matched were not terminated/);
  });

  it('makes an event fail, so Lambda retries it, after recording what was terminated', async () => {
    await writeIndex();
    process.env.PAM_MAX_ATTEMPTS = '1';
    local.pam.injectFault('lookup', { kind: 'status', status: 503, body: '<html>Service Unavailable</html>' });
    const event = request({ match: { user: 'aoliveira' } });
    await expect(drop(event, lambdaContext())).rejects.toMatchObject({ name: 'TerminationIncompleteError' });
    delete process.env.PAM_MAX_ATTEMPTS;
    expect(dropped()).toHaveLength(2);
    // Lambda's retry of the same event acts again (a failed handling is not kept): PAM refuses the DELETEs
    // of the sessions already ended, and the records settle them.
    local.pam.requests.length = 0;
    const retry = await drop(event, lambdaContext());
    expect(retry.summary).toEqual({ already_ended: 2 });
    expect(pamCalls('drop').map((call) => call.status)).toEqual([500, 500]);
  });
});

describe('redeliveries and repeats', () => {
  it('another request for a session this deployment terminated still sends its DELETE; the record settles the refusal, no list', async () => {
    await writeIndex();
    const target = seeded('jsilva', '10.66.33.17:22');
    await drop(request({ session_id: target.session_id }, 'first'), lambdaContext());
    local.pam.requests.length = 0;
    // Another event (not the same one again), for the same session, while the index still shows it active.
    const again = await drop(request({ session_id: target.session_id }, 'second'), lambdaContext());
    expect(again.outcomes).toEqual([
      expect.objectContaining({
        session_id: target.session_id,
        outcome: 'already_ended',
        message: expect.stringMatching(/^terminated by this deployment at /),
      }),
    ]);
    expect(pamCalls('drop').map((call) => call.status)).toEqual([500]);
    expect(pamCalls('list')).toEqual([]);
  });

  it('a record planted for an active session spares it nothing: its DELETE is sent and it is terminated', async () => {
    await writeIndex();
    const target = seeded('jsilva', '10.66.33.17:22');
    const planted = { session_id: target.session_id, terminated_at: new Date().toISOString(), event_id: 'forged' };
    await s3.send(
      new PutObjectCommand({
        Bucket: local.s3.bucket,
        Key: `terminated/sessions/${target.session_id}.json`,
        Body: JSON.stringify(planted),
      }),
    );
    const report = await drop(request({ session_id: target.session_id }), lambdaContext());
    expect(outcomesOf(report)).toEqual({ [target.session_id]: 'terminated (index)' });
    expect(pamCalls('drop').map((call) => call.status)).toEqual([200]);
  });

  it('the same match event delivered again gets its first response: no DELETE, no list', async () => {
    await writeIndex();
    const event = request({ match: { user: 'aoliveira' } }, 'replayed-event');
    const first = await drop(event, lambdaContext());
    expect(first.summary).toEqual({ terminated: 2 });
    local.pam.requests.length = 0;
    expect(await drop(event, lambdaContext())).toEqual(first);
    expect(local.pam.requests).toEqual([]);
  });

  it('a match event delivered again does not terminate a session of the user opened since, even one the index knows', async () => {
    await writeIndex();
    const event = request({ match: { user: 'aoliveira' } }, 'replay-after-a-new-session');
    expect((await drop(event, lambdaContext())).summary).toEqual({ terminated: 2 });
    const template = seeded('aoliveira', '10.66.50.9:22');
    local.pam.sessions.push({ ...template, session_id: 'f'.repeat(40), id: '9901', end: null });
    local.pam.sessionsChanged();
    await writeIndex();
    local.pam.requests.length = 0;
    const again = await drop(event, lambdaContext());
    expect(again.summary).toEqual({ terminated: 2 });
    expect(local.pam.requests).toEqual([]);
  });

  it('an event blocked over the cap stays blocked when delivered again, though some of its sessions ended since', async () => {
    process.env.MAX_SESSIONS_PER_EVENT = '1';
    await writeIndex();
    const [one, two] = local.pam.sessions.filter((session) => session.end === null);
    if (!one || !two) throw new Error('seed changed');
    const event = request({ session_ids: [one.session_id, two.session_id] }, 'blocked-then-replayed');
    expect((await drop(event, lambdaContext())).summary).toEqual({ blocked: 2 });
    await endedAndIndexed(one);
    const again = await drop(event, lambdaContext());
    expect(again.summary).toEqual({ blocked: 2 });
    expect(local.pam.requests).toEqual([]);
  });

  it("Lambda's retry of an event whose audit failed acts on PAM's state then: the failed handling is not kept", async () => {
    process.env.MAX_SESSIONS_PER_EVENT = '1';
    await writeIndex();
    const event = request({ match: { user: 'aoliveira' } }, 'blocked-audit-failed');
    local.eventBridge.refuseEntries(4);
    await expect(drop(event, lambdaContext())).rejects.toMatchObject({ name: 'TerminationIncompleteError' });
    // Before the retry, one of the two sessions ends: the other alone fits under the cap.
    await endedAndIndexed(seeded('aoliveira', '10.66.50.9:22'));
    const retry = await drop(event, lambdaContext());
    expect(retry.summary).toEqual({ terminated: 1 });
    expect(dropped()).toEqual([seeded('aoliveira', '10.66.50.10:22').session_id]);
  });

  it('the same event delivered again, with no index, gets its first response: no DELETE, no list', async () => {
    const event = request({ match: { user: 'aoliveira' } }, 'replayed-without-index');
    const first = await drop(event, lambdaContext());
    expect(first.summary).toEqual({ terminated: 2 });
    local.pam.requests.length = 0;
    expect(await drop(event, lambdaContext())).toEqual(first);
    expect(local.pam.requests).toEqual([]);
    expect(output.text()).toContain(
      'This trigger was handled before: its first response is returned, nothing was sent',
    );
  });
});

describe('the index rewritten while terminations read it', () => {
  it('terminates each session exactly once, whichever index each reads', async () => {
    const sessions = generateSessions(50_000, { activeCount: 400 });
    serve(sessions);
    await writeIndex();
    // As if the last list had been instant: the next run may list at once.
    await putIndex(JSON.stringify({ ...(await readIndex()), list_duration_ms: 0 }));
    const targets = sessions.filter((session) => session.end === null).slice(0, 20);
    const [summary, ...responses] = await Promise.all([
      indexSessions({}, lambdaContext({ remainingMs: 60_000 })),
      ...targets.map((target, index) =>
        new Promise((resolve) => setTimeout(resolve, index * 10)).then(() =>
          drop({ session_id: target.session_id }, lambdaContext({ remainingMs: 60_000 })),
        ),
      ),
    ]);
    expect(summary.skipped).toBeUndefined();
    expect(responses.map((response) => response.status)).toEqual(targets.map(() => 'terminated'));
    expect(dropped().sort()).toEqual(targets.map((target) => target.session_id).sort());
  });
});

describe('GET /sessions', () => {
  it('answers active=true from the fresh index, saying when it was listed', async () => {
    await writeIndex();
    const { statusCode, body } = asJson(await list(listEvent({ active: 'true' }), lambdaContext()));
    expect(statusCode).toBe(200);
    expect(body.source).toBe('index');
    expect(body.index.listed_at).toBe((await readIndex()).listed_at);
    expect(body.count).toBe(7);
    expect(local.pam.requests).toEqual([]);
  });

  it('does not show as active a session this deployment terminated after the index was written', async () => {
    await writeIndex();
    const target = seeded('pgarcia', 'vcenter.corp.example:443');
    await drop({ session_id: target.session_id }, lambdaContext());
    const { body } = asJson(await list(listEvent({ active: 'true' }), lambdaContext()));
    expect(body.source).toBe('index');
    expect(body.count).toBe(6);
    expect(body.sessions.map((session: { session_id: string }) => session.session_id)).not.toContain(target.session_id);
  });

  it('answers active=true live when there is no index', async () => {
    const { body } = asJson(await list(listEvent({ active: 'true' }), lambdaContext()));
    expect(body).toMatchObject({ source: 'live', count: 7, next: null });
  });

  async function allPages(query: Record<string, string>): Promise<{ ids: string[]; pages: number; sources: string[] }> {
    const ids: string[] = [];
    const sources: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { statusCode, body } = asJson(
        await list(listEvent({ ...query, ...(cursor ? { cursor } : {}) }), lambdaContext()),
      );
      expect(statusCode).toBe(200);
      ids.push(...body.sessions.map((session: { session_id: string }) => session.session_id));
      sources.push(body.source);
      cursor = body.next ?? undefined;
      pages += 1;
    } while (cursor);
    return { ids, pages, sources };
  }

  it('pages a history larger than one Lambda response: every session exactly once, each page under 6 MB', async () => {
    const sessions = generateSessions(25_000, { activeCount: 1_000 });
    serve(sessions);
    const { ids, pages } = await allPages({ limit: '5000' });
    expect(pages).toBeGreaterThanOrEqual(5);
    expect(ids).toEqual(sessions.map((session) => session.session_id));
    expect(Math.max(...responseSizes.filter((r) => r.name === 'list').map((r) => r.bytes))).toBeLessThan(6_291_456);
  });

  it('pages a filtered live list and the index alike, every match exactly once', async () => {
    const sessions = generateSessions(3_000, { activeCount: 300 });
    serve(sessions);
    const live = await allPages({ protocol: 'ssh', limit: '70' });
    expect(live.ids).toEqual(sessions.filter((s) => s.protocol === 'ssh').map((s) => s.session_id));
    await writeIndex();
    const indexed = await allPages({ active: 'true', limit: '30' });
    expect(new Set(indexed.sources)).toEqual(new Set(['index']));
    expect(indexed.ids).toEqual(
      sessions
        .filter((s) => s.end === null)
        .map((s) => s.session_id)
        .sort(),
    );
  });

  it('goes on paging an index that grew stale between pages', async () => {
    serve(generateSessions(300, { activeShare: 1 }));
    await writeIndex();
    const first = asJson(await list(listEvent({ active: 'true', limit: '200' }), lambdaContext())).body;
    process.env.INDEX_MAX_AGE_SECONDS = '1';
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const second = asJson(await list(listEvent({ active: 'true', limit: '200', cursor: first.next }), lambdaContext()));
    expect(second.statusCode).toBe(200);
    expect(second.body.source).toBe('index');
    expect([...first.sessions, ...second.body.sessions]).toHaveLength(300);
  });

  it('refuses a cursor made for other filters, or not made here', async () => {
    const { body } = asJson(await list(listEvent({ protocol: 'ssh', limit: '1' }), lambdaContext()));
    const other = asJson(await list(listEvent({ protocol: 'rdp', cursor: body.next }), lambdaContext()));
    expect(other.statusCode).toBe(400);
    expect(other.body.error.message).toMatch(/cursor belongs to a query with other filters/);
    const forged = asJson(await list(listEvent({ cursor: 'eyJ2IjoxfQ' }), lambdaContext()));
    expect(forged.statusCode).toBe(400);
    const limit = asJson(await list(listEvent({ limit: '5001' }), lambdaContext()));
    expect(limit.body.error.message).toBe('limit must be at most 5000');
  });
});

describe('a termination report', () => {
  it('carries at most 1,000 outcomes and says so, while counting them all', async () => {
    serve(generateSessions(3_000, { activeShare: 1 }));
    await writeIndex();
    const post = httpApiEvent({ method: 'POST', routeKey: 'POST /sessions/terminate', rawPath: '/sessions/terminate' });
    const { statusCode, body } = asJson(
      await drop(
        { ...post, body: JSON.stringify({ match: { protocol: 'ssh' }, reason: 'broad preview', dry_run: true }) },
        lambdaContext(),
      ),
    );
    expect(statusCode).toBe(200);
    expect(body.summary).toEqual({ would_block: 1_000 });
    expect(body.outcomes).toHaveLength(1_000);
    expect(body.outcomes_truncated).toBeUndefined();
    serve(generateSessions(3_600, { activeShare: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await writeIndex();
    // The container's still-fresh copy would decide this request; the test wants the new index at once.
    forgetCachedIndex();
    const bigger = asJson(
      await drop(
        { ...post, body: JSON.stringify({ match: { protocol: 'ssh' }, reason: 'broad preview', dry_run: true }) },
        lambdaContext(),
      ),
    ).body;
    expect(bigger.summary).toEqual({ would_block: 1_200 });
    expect(bigger.outcomes).toHaveLength(1_000);
    expect(bigger.outcomes_truncated).toMatchObject({ total: 1_200, shown: 1_000 });
  });
});
