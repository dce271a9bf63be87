import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PamApiError } from '../../lib/pam/pam-errors.js';
import { LookupUnavailableError } from '../../lib/pam/session-lookup.js';
import type { RemoteSession } from '../../lib/sessions/remote-session.js';
import { checkEnded } from '../../lib/termination/check-ended.js';
import type { Outcome, OutcomeKind } from '../../lib/termination/outcome.js';
import { jsonLinesWritten } from '../support/output-capture.js';

/** What the mocked PAM answers to each round of lookups: per numeric id, a session, "not found", or a failure. */
type Answer = RemoteSession | undefined | Error;
const rounds: Array<Record<string, Answer>> = [];
const asked: string[][] = [];

vi.mock('../../lib/pam/session-lookup.js', async (importActual) => ({
  ...(await importActual<typeof import('../../lib/pam/session-lookup.js')>()),
  lookupSessions: async (ids: readonly string[]) => {
    asked.push([...ids]);
    const round = rounds[asked.length - 1] ?? {};
    const found = new Map<string, RemoteSession | undefined>();
    for (const id of ids) {
      const answer = round[id];
      if (answer instanceof Error) throw answer;
      found.set(id, answer);
    }
    return found;
  },
}));

function session(id: string | null, sessionId: string, active: boolean): RemoteSession {
  return {
    id,
    session_id: sessionId,
    user: 'alice',
    origin_ip: '10.0.0.5',
    credential: 'root',
    device: '10.0.1.9:22',
    protocol: 'SSH',
    proxy: null,
    start: '2026-12-07 01:00:00',
    end: active ? null : '2026-12-07 01:05:00',
    time: null,
    prevent_purge: null,
    request: null,
    ITSM: null,
    active,
    device_host: '10.0.1.9',
    device_port: 22,
  };
}

function outcome(id: string | null, sessionId: string, kind: OutcomeKind = 'terminated'): Outcome {
  return {
    session_id: sessionId,
    outcome: kind,
    session: { id, user: 'alice', origin_ip: '10.0.0.5', device: '10.0.1.9:22', credential: 'root', protocol: 'SSH' },
    resolved_from: 'index',
    index_age_ms: 1_000,
    event_age_ms: 40,
  };
}

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

const confirmedOf = (outcomes: Outcome[]) => Object.fromEntries(outcomes.map((o) => [o.session_id, o.confirmed]));

/** The log lines written while `run` ran, as { level, message, reason }. */
async function logsOf<T>(run: () => Promise<T>) {
  const { result, lines } = await jsonLinesWritten(run);
  return { result, logs: lines.map(({ level, message, reason }) => ({ level, message, reason })) };
}

beforeEach(() => {
  rounds.length = 0;
  asked.length = 0;
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('checkEnded: whether PAM shows a terminated session ended', () => {
  it('is true for a session PAM shows ended or no longer has, after one round of lookups', async () => {
    rounds.push({ '11': session('11', A, false), '12': undefined });
    const checked = await checkEnded([outcome('11', A), outcome('12', B)], 3);
    expect(confirmedOf(checked)).toEqual({ [A]: true, [B]: true });
    expect(asked).toEqual([['11', '12']]);
  });

  it('asks again only about those still active, and is true once PAM shows them ended', async () => {
    rounds.push({ '11': session('11', A, true), '12': session('12', B, false) }, { '11': session('11', A, false) });
    const checked = await checkEnded([outcome('11', A), outcome('12', B)], 3);
    expect(confirmedOf(checked)).toEqual({ [A]: true, [B]: true });
    expect(asked).toEqual([['11', '12'], ['11']]);
  });

  it('is false for a session still active after every attempt, and asks exactly that many times', async () => {
    const active = { '11': session('11', A, true) };
    rounds.push(active, active, active, active);
    const checked = await checkEnded([outcome('11', A)], 3);
    expect(confirmedOf(checked)).toEqual({ [A]: false });
    expect(asked).toHaveLength(3);
  });

  it('is null when PAM could not tell: no numeric id, another session behind the id, no lookup route', async () => {
    rounds.push({ '12': session('12', C, true) });
    const checked = await checkEnded([outcome(null, A), outcome('12', B)], 3);
    expect(confirmedOf(checked)).toEqual({ [A]: null, [B]: null });
    expect(asked).toEqual([['12']]);

    asked.length = 0;
    rounds.length = 0;
    rounds.push({
      '11': new LookupUnavailableError('route_refused', { kind: 'rejected', message: 'no', retryable: false }),
    });
    expect(confirmedOf(await checkEnded([outcome('11', A)], 3))).toEqual({ [A]: null });
    expect(asked).toHaveLength(1);
  });

  it('is false when a recheck fails after PAM showed the session active, null when the first lookup fails', async () => {
    const failure = new PamApiError({ kind: 'timeout', message: 'timed out', retryable: true });
    rounds.push({ '11': session('11', A, true) }, { '11': failure });
    expect(confirmedOf(await checkEnded([outcome('11', A)], 3))).toEqual({ [A]: false });
    expect(asked).toHaveLength(2);

    asked.length = 0;
    rounds.length = 0;
    rounds.push({ '11': failure });
    expect(confirmedOf(await checkEnded([outcome('11', A)], 3))).toEqual({ [A]: null });
    expect(asked).toHaveLength(1);
  });

  it('asks nothing with 0 attempts, or without a terminated outcome; other outcomes are left as they were', async () => {
    expect(confirmedOf(await checkEnded([outcome('11', A)], 0))).toEqual({ [A]: null });
    const others = [outcome('11', A, 'already_ended'), outcome('12', B, 'failed'), outcome('13', C, 'would_terminate')];
    const checked = await checkEnded(others, 3);
    expect(checked).toEqual(others);
    expect(checked.every((o) => !('confirmed' in o))).toBe(true);
    expect(asked).toEqual([]);
  });

  it('does not ask again when the deadline leaves no room for a recheck', async () => {
    const active = { '11': session('11', A, true) };
    rounds.push(active, active, active);
    const checked = await checkEnded([outcome('11', A)], 3, { deadline: Date.now() + 1_000 });
    expect(confirmedOf(checked)).toEqual({ [A]: false });
    expect(asked).toHaveLength(1);
  });

  it('leaves the other outcomes of a mixed report as they were, with no confirmation', async () => {
    rounds.push({ '11': session('11', A, false) });
    const failed = outcome('12', B, 'failed');
    const checked = await checkEnded([outcome('11', A), failed], 3);
    expect(checked[0]).toMatchObject({ session_id: A, confirmed: true });
    expect(checked[1]).toEqual(failed);
    expect(checked[1] !== undefined && 'confirmed' in checked[1]).toBe(false);
  });

  it('asks again when the deadline leaves room for the rechecks', async () => {
    rounds.push({ '11': session('11', A, true) }, { '11': session('11', A, false) });
    const checked = await checkEnded([outcome('11', A)], 3, { deadline: Date.now() + 60_000 });
    expect(confirmedOf(checked)).toEqual({ [A]: true });
    expect(asked).toHaveLength(2);
  });

  it('asks again only while the deadline is more than 1.5 s away (two rechecks and a margin)', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const active = { '11': session('11', A, true) };
    rounds.push(active, active);
    const atTheLimit = checkEnded([outcome('11', A)], 2, { deadline: Date.now() + 1_500 });
    await vi.runAllTimersAsync();
    expect(confirmedOf(await atTheLimit)).toEqual({ [A]: false });
    expect(asked).toHaveLength(1);

    asked.length = 0;
    const checking = checkEnded([outcome('11', A)], 2, { deadline: Date.now() + 1_501 });
    await vi.runAllTimersAsync();
    expect(confirmedOf(await checking)).toEqual({ [A]: false });
    expect(asked).toHaveLength(2);
  });

  it('spreads its rechecks: the first after 250 to 500 ms (randomised), the next twice as long', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const active = { '11': session('11', A, true) };
    rounds.push(active, active, active);
    const checking = checkEnded([outcome('11', A)], 3);
    await vi.advanceTimersByTimeAsync(374);
    expect(asked).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(asked).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(749);
    expect(asked).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(asked).toHaveLength(3);
    expect(confirmedOf(await checking)).toEqual({ [A]: false });
  });

  it('tells the operator why it could not check: a warning for a failed lookup, a note without a lookup route', async () => {
    rounds.push({ '11': new PamApiError({ kind: 'timeout', message: 'PAM timed out', retryable: true }) });
    const failed = await logsOf(() => checkEnded([outcome('11', A)], 3));
    expect(failed.logs).toEqual([
      { level: 'WARN', message: 'Could not check that terminated sessions ended', reason: 'PAM timed out' },
    ]);

    asked.length = 0;
    rounds.length = 0;
    rounds.push({
      '11': new LookupUnavailableError('route_refused', { kind: 'rejected', message: 'no route', retryable: false }),
    });
    const unavailable = await logsOf(() => checkEnded([outcome('11', A)], 3));
    expect(unavailable.logs).toHaveLength(1);
    expect(unavailable.logs[0]).toMatchObject({ level: 'INFO', message: 'Terminated sessions not checked' });
    expect(unavailable.logs[0]?.reason).toBeTruthy();
  });

  it('logs no failure for a session still active after every attempt: its confirmation says so', async () => {
    const active = { '11': session('11', A, true) };
    rounds.push(active, active);
    const { result, logs } = await logsOf(() => checkEnded([outcome('11', A)], 2));
    expect(confirmedOf(result)).toEqual({ [A]: false });
    expect(logs).toEqual([]);
  });
});
