import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalPam, startLocalPam } from '../../infra/local/local-pam.js';
import { type SimulatedSession, seedSessions, sessionHash } from '../../infra/pam-simulator/seed-sessions.js';
import type { ActiveIndex } from '../../lib/inventory/active-index.js';
import { recordTerminated } from '../../lib/inventory/termination-records.js';
import { PamApiError } from '../../lib/pam/pam-errors.js';
import { normaliseRemoteSession, type RemoteSession } from '../../lib/sessions/remote-session.js';
import {
  confirmActive,
  isSessionActiveNow,
  sessionsSinceIndex,
  settleRefusedDrops,
} from '../../lib/termination/fresh-sessions.js';
import { type Outcome, sessionFacts } from '../../lib/termination/outcome.js';
import { settleRefusals } from '../../lib/termination/settle-refusals.js';
import { emfRecords } from '../support/emf.js';
import { captureOutput, jsonLinesWritten, logLinesSaying } from '../support/output-capture.js';

let local: LocalPam;
const output = captureOutput();
const KONG_404 = {
  kind: 'status',
  status: 404,
  body: JSON.stringify({ message: 'no Route matched with those values' }),
};

beforeAll(async () => {
  local = await startLocalPam();
  Object.assign(process.env, local.env, { PAM_RETRY_BASE_DELAY_MS: '5' });
});

afterAll(async () => {
  await local.close();
});

beforeEach(() => {
  local.pam.sessions.splice(0, local.pam.sessions.length, ...seedSessions());
  local.pam.sessionsChanged();
  local.pam.clearFaults();
  local.pam.requests.length = 0;
});

function normalised(session: SimulatedSession | undefined): RemoteSession {
  const result = normaliseRemoteSession(session);
  if (!result.ok) throw new Error('not a session');
  return result.session;
}

const byUser = (user: string, open: boolean) =>
  normalised(local.pam.sessions.find((session) => session.user === user && (session.end === null) === open));
const endpoints = () => local.pam.requests.map((request) => request.endpoint);
const fallbacksSince = (mark: number) =>
  emfRecords(output.text().slice(mark)).filter((record) =>
    record.metrics.some(({ Name }) => Name === 'FullListFallback'),
  ).length;

const index = (highest: number | null | undefined): ActiveIndex => ({
  version: 1,
  listed_at: new Date().toISOString(),
  list_duration_ms: 5,
  ...(highest === undefined ? {} : { highest_id: highest }),
  history_size: 12,
  malformed: 0,
  active: [],
  recently_ended: [],
});

describe('confirmActive', () => {
  it('looks each session up by numeric id: still open, ended since, gone from PAM; no list', async () => {
    const open = byUser('aoliveira', true);
    const ending = byUser('mchen', true);
    const gone = { ...byUser('jsilva', true), id: '4242', session_id: 'e'.repeat(40) };
    const pamSide = local.pam.sessions.find((session) => session.session_id === ending.session_id);
    if (pamSide) pamSide.end = '2026-12-06 22:40:00';

    const states = await confirmActive([open, ending, gone]);

    expect(Object.fromEntries([...states].map(([id, state]) => [id, [state.active, state.via]]))).toEqual({
      [open.session_id]: [true, 'lookup'],
      [ending.session_id]: [false, 'lookup'],
      [gone.session_id]: [false, 'lookup'],
    });
    expect(states.get(ending.session_id)?.session?.end).toBe('2026-12-06 22:40:00');
    expect(states.get(gone.session_id)?.session).toBeNull();
    expect(endpoints()).toEqual(['lookup', 'lookup', 'lookup']);
    expect(await isSessionActiveNow(open)).toBe(true);
    expect(await isSessionActiveNow(ending)).toBe(false);
  });

  it('reads the list, and counts it, only for a session without a numeric id, or whose id names another session', async () => {
    const open = byUser('aoliveira', true);
    const noId = { ...byUser('pgarcia', true), id: null };
    const otherId = { ...byUser('break_glass', true), id: open.id };
    const mark = output.text().length;
    const states = await confirmActive([open, noId, otherId]);
    expect(states.get(open.session_id)).toMatchObject({ active: true, via: 'lookup' });
    expect(states.get(noId.session_id)).toMatchObject({ active: true, via: 'list' });
    expect(states.get(otherId.session_id)).toMatchObject({ active: true, via: 'list' });
    // One lookup for the id both carry, one list for the two it cannot settle.
    expect(endpoints().sort()).toEqual(['list', 'lookup']);
    expect(fallbacksSince(mark)).toBe(1);
  });

  it('reads the list for every session when PAM refuses the lookup route, and counts it', async () => {
    local.pam.injectFault('lookup', KONG_404 as never);
    const open = byUser('aoliveira', true);
    const ended = byUser('jsilva', false);
    const absent = { ...open, id: '4243', session_id: 'd'.repeat(40) };
    const mark = output.text().length;
    const states = await confirmActive([open, ended, absent]);
    expect(Object.fromEntries([...states].map(([id, state]) => [id, [state.active, state.via]]))).toEqual({
      [open.session_id]: [true, 'list'],
      [ended.session_id]: [false, 'list'],
      [absent.session_id]: [false, 'list'],
    });
    expect(endpoints().filter((endpoint) => endpoint === 'list')).toHaveLength(1);
    expect(fallbacksSince(mark)).toBe(1);
  });

  it('lets any other PAM failure through: nothing is decided on a guess', async () => {
    local.pam.injectFault('lookup', { kind: 'status', status: 500, body: '{"response":{"error":true,"status":500}}' });
    await expect(confirmActive([byUser('aoliveira', true)])).rejects.toMatchObject({ name: 'PamApiError' });
  });
});

describe('sessionsSinceIndex', () => {
  const opened = (id: number): SimulatedSession => ({
    ...(local.pam.sessions[0] as SimulatedSession),
    id: String(id),
    session_id: sessionHash(`since-${id}`),
    end: null,
    time: null,
  });

  it('finds the sessions above the index highest_id by lookup, stopping early when told', async () => {
    local.pam.openSessions([opened(13), opened(15)]);
    const walk = await sessionsSinceIndex(index(12));
    expect(walk).toMatchObject({ via: 'lookup', highestId: 15, complete: true, lookups: 8 });
    expect(walk.via === 'lookup' && walk.sessions.map((session) => session.id)).toEqual(['13', '15']);
    expect(endpoints()).not.toContain('list');

    local.pam.requests.length = 0;
    const sought = sessionHash('since-13');
    const early = await sessionsSinceIndex(index(12), { onSession: (session) => session.session_id === sought });
    expect(early).toMatchObject({ via: 'lookup', complete: false });
    expect(local.pam.requests.length).toBeLessThanOrEqual(4);
  });

  it.each([
    ['no index', undefined],
    ['an index without highest_id', index(undefined)],
    ['an index whose ids are not numeric', index(null)],
  ])('tells the caller to read the list, counted, with %s', async (_, given) => {
    const mark = output.text().length;
    expect(await sessionsSinceIndex(given)).toMatchObject({ via: 'list' });
    expect(local.pam.requests).toEqual([]);
    expect(fallbacksSince(mark)).toBe(1);
  });

  it('tells the caller to read the list, counted, when PAM refuses the route', async () => {
    local.pam.injectFault('lookup', KONG_404 as never);
    const mark = output.text().length;
    expect(await sessionsSinceIndex(index(12))).toMatchObject({
      via: 'list',
      reason: expect.stringMatching(/lookup_path/),
    });
    expect(fallbacksSince(mark)).toBe(1);
  });
});

describe('settleRefusedDrops', () => {
  const failed = (session: RemoteSession): Outcome => ({
    session_id: session.session_id,
    outcome: 'failed',
    session: sessionFacts(session),
    message: 'PAM Core answered HTTP 500 (error_code 1)',
    resolved_from: 'index',
    index_age_ms: 1_000,
    event_age_ms: 20,
  });

  it('calls a refused drop of a session that has ended already_ended, by lookup, and leaves one still open failed', async () => {
    const ended = byUser('jsilva', false);
    const open = byUser('aoliveira', true);
    const terminated: Outcome = { ...failed(byUser('mchen', true)), outcome: 'terminated' };
    const settled = await settleRefusedDrops([failed(ended), failed(open), terminated]);
    expect(settled.map((outcome) => outcome.outcome)).toEqual(['already_ended', 'failed', 'terminated']);
    expect(settled[0]).toMatchObject({
      message: 'no longer active after an ambiguous answer to the drop',
      error: undefined,
    });
    expect(endpoints()).toEqual(['lookup', 'lookup']);
  });

  it('leaves them failed when PAM cannot be asked', async () => {
    local.pam.injectFault('lookup', { kind: 'status', status: 500, body: '{"response":{"error":true,"status":500}}' });
    const outcomes = [failed(byUser('jsilva', false))];
    expect(await settleRefusedDrops(outcomes)).toEqual(outcomes);
  });
});

describe('settleRefusals', () => {
  const refused = (session: RemoteSession, kind: 'rejected' | 'timeout'): Outcome => ({
    session_id: session.session_id,
    outcome: 'failed',
    session: sessionFacts(session),
    message: kind === 'rejected' ? 'PAM Core answered HTTP 500 (error_code 1)' : 'no answer in 8000 ms',
    resolved_from: 'live',
    index_age_ms: null,
    event_age_ms: 20,
    error: new PamApiError({ kind, message: 'refused', retryable: kind === 'timeout' }),
  });
  const bucket = () => local.env.EXPORT_BUCKET;

  it("settles a refused drop this deployment's records show terminated from the records, asking PAM nothing", async () => {
    // Open on PAM's side still (its list lags): the record of this deployment's own DELETE decides.
    const open = byUser('aoliveira', true);
    await recordTerminated(bucket(), [open.session_id], 'event-1');
    const { result: settled, lines } = await jsonLinesWritten(() =>
      settleRefusals([refused(open, 'rejected')], {
        bucket: bucket(),
        options: {},
        listFailed: false,
      }),
    );
    // What PAM said is kept for the operator, in a warning naming the session.
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'A refused drop of a session that had ended',
        session_id: open.session_id,
        reason: 'PAM Core answered HTTP 500 (error_code 1)',
      }),
    );
    expect(settled).toHaveLength(1);
    expect(settled[0]).toMatchObject({ outcome: 'already_ended', error: undefined });
    expect(settled[0]?.message).toMatch(/^terminated by this deployment at \d{4}-\d\d-\d\dT/);
    expect(endpoints()).toEqual([]);
  });

  it('never takes the records for an unanswered drop: PAM is asked, and a session still open stays failed', async () => {
    const open = byUser('mchen', true);
    await recordTerminated(bucket(), [open.session_id], 'event-2');
    const outcome = refused(open, 'timeout');
    const settled = await settleRefusals([outcome], { bucket: bucket(), options: {}, listFailed: false });
    expect(settled).toEqual([outcome]);
    expect(endpoints()).toEqual(['lookup']);
  });

  it('asks PAM about a refused drop without a record, unless the list failed', async () => {
    const ended = byUser('jsilva', false);
    const outcomes = [refused(ended, 'rejected')];
    expect(
      (await settleRefusals(outcomes, { bucket: bucket(), options: {}, listFailed: false })).map((o) => o.outcome),
    ).toEqual(['already_ended']);
    expect(endpoints()).toEqual(['lookup']);
    local.pam.requests.length = 0;
    expect(await settleRefusals(outcomes, { bucket: bucket(), options: {}, listFailed: true })).toEqual(outcomes);
    expect(endpoints()).toEqual([]);
  });

  it('leaves alone what is not a failed drop of a found session', async () => {
    const open = byUser('aoliveira', true);
    const notFound: Outcome = { ...refused(open, 'rejected'), session: null };
    const terminated: Outcome = { ...refused(open, 'rejected'), outcome: 'terminated', error: undefined };
    const outcomes = [notFound, terminated];
    expect(await settleRefusals(outcomes, { bucket: bucket(), options: {}, listFailed: false })).toBe(outcomes);
    expect(endpoints()).toEqual([]);
  });
});

describe('what the operator reads when lookups cannot answer', () => {
  const fallbackLines = (mark: number) =>
    logLinesSaying(output.text().slice(mark), 'Reading the full session list: lookups cannot answer').map(
      ({ where, reason }) => [where, reason],
    );

  it('names where the list is read instead, and why', async () => {
    const mark = output.text().length;
    await sessionsSinceIndex(undefined);
    await sessionsSinceIndex(index(null));
    local.pam.injectFault('lookup', KONG_404 as never);
    const refused = await sessionsSinceIndex(index(12));
    expect(fallbackLines(mark)).toEqual([
      ['sessions_since_index', 'there is no usable index'],
      ['sessions_since_index', 'the index knows no numeric session id'],
      ['sessions_since_index', refused.via === 'list' ? refused.reason : 'no reason'],
    ]);
  });

  it('says a session without a numeric id first, then an id that names another session', async () => {
    const open = byUser('aoliveira', true);
    const noId = { ...byUser('pgarcia', true), id: null };
    const otherId = { ...byUser('break_glass', true), id: open.id };
    const mark = output.text().length;
    await confirmActive([open, otherId]);
    await confirmActive([open, noId, otherId]);
    await confirmActive([open]);
    expect(fallbackLines(mark)).toEqual([
      ['confirm_active', 'a numeric id answered with another session_id'],
      ['confirm_active', 'a session without a numeric id'],
    ]);
  });

  it('reads on through a long list until every session sought is found', async () => {
    const first = local.pam.sessions[0] as SimulatedSession;
    const filler = Array.from({ length: 4_000 }, (_, n) => ({
      ...first,
      id: String(10_000 + n),
      session_id: sessionHash(`filler-${n}`),
      end: '2026-12-01 10:00:00',
    }));
    const last = { ...first, id: '20000', session_id: sessionHash('last-of-the-list'), end: null };
    local.pam.sessions.push(...filler, last);
    local.pam.sessionsChanged();
    const early = { ...byUser('aoliveira', true), id: null };
    const late = { ...normalised(last), id: null };
    const states = await confirmActive([early, late]);
    expect(states.get(early.session_id)).toMatchObject({ active: true, via: 'list' });
    expect(states.get(late.session_id)).toMatchObject({ active: true, via: 'list' });
  });
});

describe('settling refused drops, as the operator reads it', () => {
  it('asks PAM nothing and changes nothing without a failed drop of a found session', async () => {
    const open = byUser('aoliveira', true);
    const outcomes: Outcome[] = [
      {
        session_id: open.session_id,
        outcome: 'terminated',
        session: sessionFacts(open),
        resolved_from: 'index',
        index_age_ms: 1_000,
        event_age_ms: 20,
      },
      {
        session_id: 'f'.repeat(40),
        outcome: 'failed',
        session: null,
        resolved_from: 'index',
        index_age_ms: 1_000,
        event_age_ms: 20,
      },
    ];
    expect(await settleRefusedDrops(outcomes)).toBe(outcomes);
    expect(endpoints()).toEqual([]);
  });

  it('warns that the failed drops could not be re-checked, and why', async () => {
    local.pam.injectFault('lookup', { kind: 'status', status: 500, body: '{"response":{"error":true,"status":500}}' });
    const ended = byUser('jsilva', false);
    const mark = output.text().length;
    await settleRefusedDrops([
      {
        session_id: ended.session_id,
        outcome: 'failed',
        session: sessionFacts(ended),
        resolved_from: 'index',
        index_age_ms: 1_000,
        event_age_ms: 20,
      },
    ]);
    expect(logLinesSaying(output.text().slice(mark), 'Could not re-check failed drops')).toMatchObject([
      { level: 'WARN', reason: expect.stringContaining('HTTP 500') },
    ]);
  });
});
