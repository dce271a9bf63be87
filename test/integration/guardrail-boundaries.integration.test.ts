import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../infra/local/lambda-events.js';
import { pamTimestamp, type SimulatedSession, sessionHash } from '../../infra/pam-simulator/seed-sessions.js';
import { forgetCachedIndex, INDEX_KEY, readActiveIndex } from '../../lib/inventory/active-index.js';
import { eventFixture } from '../support/fixtures.js';
import { type LocalHandlers, startLocalHandlers } from '../support/local-handlers.js';

/**
 * Every guardrail at its edge, on every path a termination takes: the cap (MAX_SESSIONS_PER_EVENT)
 * at exactly its value and one over, decided from the index, from the live list and from both;
 * protection by any of several entries; a held index at, just under and just over its maximum age.
 */
let stack: LocalHandlers;
let s3: S3Client;
const CAP = 3;
const ENV = ['PROTECTED_USERS', 'PROTECTED_CREDENTIALS', 'MAX_SESSIONS_PER_EVENT', 'INDEX_MAX_AGE_SECONDS', 'DRY_RUN'];

beforeAll(async () => {
  stack = await startLocalHandlers({}, { PAM_RETRY_BASE_DELAY_MS: '5' });
  s3 = new S3Client({});
});

afterAll(async () => {
  await stack.local.close();
});

beforeEach(async () => {
  await stack.local.s3.clear();
  forgetCachedIndex();
  serve([]);
  process.env.MAX_SESSIONS_PER_EVENT = String(CAP);
});

afterEach(() => {
  for (const name of ENV) delete process.env[name];
  forgetCachedIndex();
});

let opened = 0;
/** One open session, all from the same source address (what the requests below match on). */
function session(user: string, credential = 'root'): SimulatedSession {
  opened += 1;
  return {
    id: String(opened),
    user,
    origin_ip: '198.51.100.7',
    credential,
    device: `10.70.0.${opened % 250}:22`,
    protocol: 'ssh',
    proxy: 'Terminal Proxy',
    session_id: sessionHash(`boundary-${opened}`),
    start: pamTimestamp(new Date(Date.now() - 60_000)),
    end: null,
    time: null,
    prevent_purge: 'No',
    request: null,
    ITSM: null,
  };
}
const sessionsOf = (user: string, count: number) => Array.from({ length: count }, () => session(user));

function serve(sessions: SimulatedSession[]): void {
  stack.local.pam.sessions.splice(0, stack.local.pam.sessions.length, ...sessions);
  stack.local.pam.sessionsChanged();
  stack.local.pam.requests.length = 0;
}

async function writeIndex(): Promise<void> {
  await stack.indexSessions({}, lambdaContext({ remainingMs: 60_000 }));
  stack.local.pam.requests.length = 0;
}

const matchEvent = (match: Record<string, string>) => {
  const event = eventFixture('termination-request-by-match');
  return { ...event, id: `boundary-${Math.random()}`, detail: { ...event.detail, match } };
};
const idsEvent = (ids: string[]) => {
  const event = eventFixture('termination-request-by-id');
  return { ...event, id: `boundary-${Math.random()}`, detail: { ...event.detail, session_ids: ids } };
};

type Report = { outcomes: Array<{ session_id: string; outcome: string; resolved_from: string; message?: string }> };
/** Each target's outcome and where it was decided from, by session id. */
const outcomes = (report: Report) =>
  Object.fromEntries(report.outcomes.map((o) => [o.session_id, `${o.outcome} (${o.resolved_from})`]));
const expected = (sessions: SimulatedSession[], outcome: string) =>
  Object.fromEntries(sessions.map((s) => [s.session_id, outcome]));
const calls = (endpoint: 'list' | 'drop' | 'lookup') => stack.local.pam.requests.filter((r) => r.endpoint === endpoint);
const droppedIds = () =>
  calls('drop')
    .map((r) => r.path.split('/').pop())
    .sort();
const ids = (sessions: SimulatedSession[]) => sessions.map((s) => s.session_id).sort();

describe('the cap, on the live list (no index)', () => {
  it('terminates a match of exactly the cap', async () => {
    const targets = sessionsOf('cap-user', CAP);
    serve([...targets, session('someone-else')]);
    const report = await stack.drop(matchEvent({ user: 'cap-user' }), lambdaContext());
    expect(outcomes(report)).toEqual(expected(targets, 'terminated (live)'));
    expect(droppedIds()).toEqual(ids(targets));
  });

  it('blocks a match of the cap + 1 whole, dropping none', async () => {
    const targets = sessionsOf('cap-user', CAP + 1);
    serve([...targets, session('someone-else')]);
    const event = matchEvent({ user: 'cap-user' });
    const report = await stack.drop(event, lambdaContext());
    expect(outcomes(report)).toEqual(expected(targets, 'blocked (live)'));
    expect(report.outcomes[0].message).toBe(
      `${CAP + 1} sessions matched, more than MAX_SESSIONS_PER_EVENT (${CAP}): none was terminated, a human decides`,
    );
    expect(calls('drop')).toEqual([]);
    // Kept for an analyst's confirmation: exactly the sessions blocked.
    const kept = (await stack.local.dynamodb.items()).find((item) => JSON.stringify(item.id).includes(event.id));
    const keptIds = (kept?.session_ids as { L?: Array<{ S: string }> } | undefined)?.L?.map((id) => id.S).sort();
    expect(keptIds).toEqual(ids(targets));
  });

  it('terminates exactly the cap of sessions named by id', async () => {
    const targets = sessionsOf('cap-user', CAP);
    serve(targets);
    const report = await stack.drop(idsEvent(ids(targets)), lambdaContext());
    expect(outcomes(report)).toEqual(expected(targets, 'terminated (live)'));
  });
});

describe('the cap, on the index', () => {
  it('terminates a match of exactly the cap from the index (the live list still looks for newer sessions)', async () => {
    const targets = sessionsOf('cap-user', CAP);
    serve([...targets, session('someone-else')]);
    await writeIndex();
    const report = await stack.drop(matchEvent({ user: 'cap-user' }), lambdaContext());
    expect(outcomes(report)).toEqual(expected(targets, 'terminated (index)'));
    expect(droppedIds()).toEqual(ids(targets));
    // Not over the cap: the index's candidates are not looked up before their DELETE (only ids above the index's
    // highest are); each is looked up once after it, to confirm it ended.
    const requests = stack.local.pam.requests;
    for (const target of targets) {
      const dropped = requests.findIndex((r) => r.endpoint === 'drop' && r.path.endsWith(`/${target.session_id}`));
      const lookups = requests.flatMap((r, at) =>
        r.endpoint === 'lookup' && r.path.endsWith(`/${target.id}`) ? [at] : [],
      );
      expect(lookups.length).toBe(1);
      expect(lookups[0]).toBeGreaterThan(dropped);
    }
  });

  it('blocks a match of the cap + 1 whole, sending nothing: each candidate confirmed active by one lookup first', async () => {
    const targets = sessionsOf('cap-user', CAP + 1);
    serve([...targets, session('someone-else')]);
    await writeIndex();
    const report = await stack.drop(matchEvent({ user: 'cap-user' }), lambdaContext());
    expect(outcomes(report)).toEqual(expected(targets, 'blocked (live)'));
    expect(stack.local.pam.requests.map((request) => request.endpoint)).toEqual(Array(CAP + 1).fill('lookup'));
  });

  it('terminates exactly the cap of ids, and blocks the cap + 1 whole', async () => {
    const targets = sessionsOf('cap-user', CAP + 1);
    serve(targets);
    await writeIndex();
    const atCap = await stack.drop(idsEvent(ids(targets.slice(0, CAP))), lambdaContext());
    expect(outcomes(atCap)).toEqual(expected(targets.slice(0, CAP), 'terminated (index)'));
    const rest = sessionsOf('cap-user', CAP + 1);
    serve(rest);
    await writeIndex();
    forgetCachedIndex();
    const unknown = sessionHash('boundary-never-opened');
    const overCap = await stack.drop(idsEvent([...ids(rest), unknown]), lambdaContext());
    expect(outcomes(overCap)).toEqual({ ...expected(rest, 'blocked (live)'), [unknown]: 'blocked (index)' });
    expect(overCap.outcomes.find((o: { session_id: string }) => o.session_id === unknown)?.message).toBe(
      'not looked up: the request was blocked as a whole',
    );
    expect(calls('drop')).toEqual([]);
  });
});

describe('the cap, across the index and the live list', () => {
  it('terminates the cap when the live list brings the last one', async () => {
    const indexed = sessionsOf('cap-user', CAP - 1);
    serve([...indexed, session('someone-else')]);
    await writeIndex();
    const later = session('cap-user');
    serve([...stack.local.pam.sessions, later]);
    const report = await stack.drop(matchEvent({ user: 'cap-user' }), lambdaContext());
    expect(outcomes(report)).toEqual({
      ...expected(indexed, 'terminated (index)'),
      [later.session_id]: 'terminated (live)',
    });
  });

  it('blocks only the one over the cap that the live list brings', async () => {
    const indexed = sessionsOf('cap-user', CAP - 1);
    serve(indexed);
    await writeIndex();
    const later = sessionsOf('cap-user', 2);
    serve([...stack.local.pam.sessions, ...later]);
    const report = await stack.drop(matchEvent({ user: 'cap-user' }), lambdaContext());
    const byOutcome = report.outcomes
      .map((o: { outcome: string; resolved_from: string }) => `${o.outcome} (${o.resolved_from})`)
      .sort();
    expect(byOutcome).toEqual(['blocked (live)', ...Array(CAP - 1).fill('terminated (index)'), 'terminated (live)']);
    expect(calls('drop')).toHaveLength(CAP);
  });
});

describe('protection by any of several entries', () => {
  const paths = [
    ['the live list', async () => undefined, 'live'],
    ['the index', writeIndex, 'index'],
  ] as const;

  for (const [path, prepare, from] of paths) {
    it(`spares a session of any protected user, not only the first entry's, on ${path}`, async () => {
      process.env.PROTECTED_USERS = 'alpha, CORP\\Bravo, charlie@corp.example';
      const spared = [session('bravo'), session('Charlie')];
      const cut = session('delta');
      serve([session('alpha'), ...spared, cut]);
      await prepare();
      const report = await stack.drop(matchEvent({ origin_ip: '198.51.100.7' }), lambdaContext());
      const byId = outcomes(report);
      for (const s of spared) expect(byId[s.session_id]).toBe(`skipped_protected (${from})`);
      expect(byId[cut.session_id]).toBe(`terminated (${from})`);
      expect(droppedIds()).toEqual([cut.session_id]);
    });

    it(`spares a session of any protected credential on ${path}`, async () => {
      process.env.PROTECTED_CREDENTIALS = 'sa, oracle, Administrator';
      const spared = [session('u1', 'ORACLE'), session('u2', 'administrator')];
      const cut = session('u3', 'ec2-user');
      serve([session('u0', 'sa'), ...spared, cut]);
      await prepare();
      const report = await stack.drop(matchEvent({ origin_ip: '198.51.100.7' }), lambdaContext());
      const byId = outcomes(report);
      for (const s of spared) expect(byId[s.session_id]).toBe(`skipped_protected (${from})`);
      expect(report.outcomes.find((o: { session_id: string }) => o.session_id === spared[1]?.session_id)?.message).toBe(
        'credential "administrator" is protected (PROTECTED_CREDENTIALS)',
      );
      expect(droppedIds()).toEqual([cut.session_id]);
    });
  }
});

describe("a held index (this container's copy) and INDEX_MAX_AGE_SECONDS", () => {
  const MAX_AGE_S = 120;

  /** Indexes `sessions`, then rewrites the index as listed at `listedAt`. */
  async function putIndexListedAt(listedAt: number, sessions: SimulatedSession[]): Promise<void> {
    serve(sessions);
    await writeIndex();
    const object = await s3.send(new GetObjectCommand({ Bucket: stack.local.s3.bucket, Key: INDEX_KEY }));
    const index = JSON.parse((await object.Body?.transformToString()) ?? '');
    const body = JSON.stringify({ ...index, listed_at: new Date(listedAt).toISOString() });
    await s3.send(new PutObjectCommand({ Bucket: stack.local.s3.bucket, Key: INDEX_KEY, Body: body }));
  }

  it('decides from the held copy at exactly, and just under, its maximum age, and not a millisecond over', async () => {
    process.env.INDEX_MAX_AGE_SECONDS = String(MAX_AGE_S);
    const listedAt = Date.now() - 1_000;
    const held = session('held');
    await putIndexListedAt(listedAt, [held]);
    const first = await readActiveIndex(() => listedAt);
    expect(first.usable).toBe(true);
    // S3 now holds another index of the same age: only a held copy still has `held` among its sessions.
    const newer = session('newer');
    await putIndexListedAt(listedAt, [newer]);
    const activeIds = (reading: Awaited<ReturnType<typeof readActiveIndex>>) => [
      ...(reading.view?.active.keys() ?? []),
    ];

    for (const ageMs of [MAX_AGE_S * 1000 - 1, MAX_AGE_S * 1000]) {
      const reading = await readActiveIndex(() => listedAt + ageMs);
      expect({ ageMs, usable: reading.usable, active: activeIds(reading) }).toEqual({
        ageMs,
        usable: true,
        active: [held.session_id],
      });
    }
    const over = await readActiveIndex(() => listedAt + MAX_AGE_S * 1000 + 1);
    // Too old to decide: S3 is asked again, and its index, as old, cannot decide either.
    expect(over).toMatchObject({
      usable: false,
      reason: `the index was listed ${MAX_AGE_S} s ago, more than INDEX_MAX_AGE_SECONDS (${MAX_AGE_S})`,
    });
    expect(activeIds(over)).toEqual([newer.session_id]);
  });

  it('through the drop: a held copy too old is not used, the live list decides', async () => {
    process.env.INDEX_MAX_AGE_SECONDS = '1';
    process.env.DRY_RUN = 'true';
    const target = session('aged');
    serve([target]);
    await writeIndex();
    const fresh = await stack.drop({ session_id: target.session_id }, lambdaContext());
    expect(fresh).toMatchObject({ status: 'would_terminate', resolved_from: 'index' });
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    stack.local.pam.requests.length = 0;
    const aged = await stack.drop({ session_id: target.session_id }, lambdaContext());
    expect(aged).toMatchObject({ status: 'would_terminate', resolved_from: 'live', index_age_ms: null });
    expect(calls('list')).toHaveLength(1);
  });
});
