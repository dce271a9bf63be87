import { beforeEach, describe, expect, it, vi } from 'vitest';
import { terminationSettings } from '../../lib/core/settings.js';
import { type ActiveIndex, type IndexReading, parseActiveIndex } from '../../lib/inventory/active-index.js';
import { PamApiError } from '../../lib/pam/pam-errors.js';
import type { RemoteSession } from '../../lib/sessions/remote-session.js';
import type { Outcome } from '../../lib/termination/outcome.js';
import { terminateSessions } from '../../lib/termination/terminate-sessions.js';
import type { TerminationRequest } from '../../lib/termination/termination-request.js';
import { jsonLinesWritten as written } from '../support/output-capture.js';

/**
 * The orchestrator alone: resolve → act → report, over a PAM client mocked in memory (drop,
 * lookup, list), the index handed in, and the AWS side (audit, records, write-back) stubbed.
 */
const pam = {
  sessions: [] as RemoteSession[],
  calls: [] as string[],
  lookupRoute: true,
  listFailure: undefined as PamApiError | undefined,
  /** Drops PAM accepts without ending the session. */
  ignoredDrops: new Set<string>(),
  /** Records of the list handed out so far (one block per record). */
  listed: 0,
  /** For each DELETE (by user), how many records of the list had been handed out when it was sent. */
  listedAtDrop: {} as Record<string, number>,
};
let reading: IndexReading = { usable: false, reason: 'no index' };
const fallbacks: string[] = [];
/** Why each full-list fallback was counted. */
const fallbackReasons: string[] = [];
/** What the AWS side was handed: the sessions kept as a blocked request, the records PAM's S3 refused. */
const aws = { keptBlocked: [] as string[][], unrecorded: 0, secretReads: 0, indexReads: 0 };

const refused = (message: string, extra: Partial<ConstructorParameters<typeof PamApiError>[0]> = {}) =>
  new PamApiError({ kind: 'rejected', status: 500, retryable: false, message, pamErrorCode: 1, ...extra });

vi.mock('../../lib/pam/pam-client.js', () => ({
  dropSession: async (sessionId: string) => {
    pam.calls.push(`drop ${sessionId.slice(0, 2)}`);
    pam.listedAtDrop[pam.sessions.find((s) => s.session_id === sessionId)?.user ?? sessionId] = pam.listed;
    const session = pam.sessions.find((candidate) => candidate.session_id === sessionId);
    if (!session?.active) throw refused('An error occurred while droping session');
    if (pam.ignoredDrops.has(sessionId)) return;
    session.active = false;
    session.end = '2026-12-07 02:00:00';
  },
  requestEnvelope: async (operation: { name: string; path: (c: { lookupPath: string }) => string }) => {
    const id = operation.path({ lookupPath: '/api/session/remotesessions/{id}' }).split('/').pop() ?? '';
    pam.calls.push(`lookup ${id}`);
    if (!pam.lookupRoute)
      throw new PamApiError({
        kind: 'bad_response',
        status: 404,
        retryable: false,
        message: 'no route',
        pamMessage: 'no Route matched with those values',
      });
    const session = pam.sessions.find((candidate) => candidate.id === id);
    if (!session) throw refused('Session not found', { status: 400, pamErrorCode: 1002 });
    return { remote_session: { ...session } };
  },
  streamRemoteSessions: async function* () {
    pam.calls.push('list');
    if (pam.listFailure) throw pam.listFailure;
    for (const session of pam.sessions) {
      pam.listed += 1;
      yield [{ ...session }];
    }
  },
}));
vi.mock('../../lib/pam/pam-secret.js', async () => {
  const { pamSettings } = await import('../../lib/core/settings.js');
  return {
    // Never held: every termination reads the index and the secret. Its settings are read as the real one reads them.
    heldPamConnection: () => {
      pamSettings();
      return undefined;
    },
    prefetchPamConnection: async () => {
      aws.secretReads += 1;
    },
  };
});
vi.mock('../../lib/inventory/active-index.js', async (importActual) => ({
  ...(await importActual<typeof import('../../lib/inventory/active-index.js')>()),
  readActiveIndex: async () => {
    aws.indexReads += 1;
    return reading;
  },
  indexRefreshed: async () => undefined,
}));
vi.mock('../../lib/inventory/inventory-metrics.js', () => ({
  recordFullListFallback: (caller: string, reason: string) => {
    fallbacks.push(caller);
    fallbackReasons.push(reason);
  },
}));
vi.mock('../../lib/inventory/termination-records.js', () => ({
  recordTerminated: async () => aws.unrecorded,
  terminatedAmong: async () => new Map(),
}));
vi.mock('../../lib/aws/audit-trail.js', () => ({
  publishAuditEvents: async (events: unknown[]) => ({ published: events.length, failed: 0 }),
}));
vi.mock('../../lib/termination/blocked-requests.js', () => ({
  keepBlockedRequest: async (_request: TerminationRequest, blocked: Outcome[]) => {
    aws.keptBlocked.push(blocked.map((outcome) => outcome.session_id));
  },
}));
vi.mock('../../lib/termination/blocked-notice.js', () => ({ notifyBlocked: async () => undefined }));
vi.mock('../../lib/termination/finding-write-back.js', () => ({ writeBackToFindings: async () => undefined }));

function session(id: number, user: string, origin: string, active = true): RemoteSession {
  return {
    id: String(id),
    session_id: String(id).repeat(40),
    user,
    origin_ip: origin,
    credential: 'root',
    device: '10.66.0.9:22',
    protocol: 'ssh',
    proxy: null,
    start: '2026-12-07 01:00:00',
    end: active ? null : '2026-12-07 01:30:00',
    time: null,
    prevent_purge: null,
    request: null,
    ITSM: null,
    active,
    device_host: '10.66.0.9',
    device_port: 22,
  };
}

/** An index listing what PAM shows now, up to `highestId`. */
function indexOf(highestId: number): IndexReading {
  const known = pam.sessions.filter((s) => Number(s.id) <= highestId);
  const index: ActiveIndex = {
    version: 1,
    listed_at: new Date().toISOString(),
    list_duration_ms: 10,
    highest_id: highestId,
    history_size: known.length,
    malformed: 0,
    active: known.filter((s) => s.active).map((s) => ({ ...s })),
    recently_ended: [],
  };
  return { usable: true, view: parseActiveIndex(JSON.stringify(index)), ageMs: 1_000 };
}

function request(over: Partial<TerminationRequest>): TerminationRequest {
  return {
    sessionIds: [],
    criteria: [],
    reason: 'unit test',
    requestedBy: 'analyst',
    dryRun: false,
    trigger: { event_id: 'e-1', source: 'test', detail_type: 'test' },
    ...over,
  };
}

const settings = (over: Partial<ReturnType<typeof terminationSettings>> = {}) => ({
  ...terminationSettings(),
  maxSessionsPerEvent: 2,
  ...over,
});
const kinds = (report: Awaited<ReturnType<typeof terminateSessions>>) =>
  Object.fromEntries(report.outcomes.map((o) => [o.session?.user ?? o.session_id, o.outcome]));
const idOf = (user: string) => pam.sessions.find((s) => s.user === user)?.session_id ?? '';

beforeEach(() => {
  process.env.PAM_SECRET_ID = 'unit/pam';
  pam.sessions = [
    session(1, 'alice', '10.0.0.1'),
    session(2, 'bob', '10.0.0.2'),
    session(3, 'carol', '10.0.0.3'),
    session(4, 'dave', '10.0.0.3', false),
  ];
  pam.calls = [];
  pam.lookupRoute = true;
  pam.listFailure = undefined;
  pam.ignoredDrops.clear();
  pam.listed = 0;
  pam.listedAtDrop = {};
  reading = { usable: false, reason: 'no index' };
  fallbacks.length = 0;
  fallbackReasons.length = 0;
  Object.assign(aws, { keptBlocked: [], unrecorded: 0, secretReads: 0, indexReads: 0 });
});

describe('terminateSessions', () => {
  it('asks PAM nothing for an ignored request', async () => {
    const report = await terminateSessions(
      request({ sessionIds: [idOf('alice')], ignored: 'below threshold' }),
      settings(),
      {},
    );
    expect(report).toMatchObject({ ignored: 'below threshold', outcomes: [] });
    expect(pam.calls).toEqual([]);
  });

  it('terminates an indexed session with one DELETE, confirms it by lookup, and lists nothing', async () => {
    reading = indexOf(4);
    const report = await terminateSessions(request({ sessionIds: [idOf('alice')] }), settings(), {});
    expect(report.outcomes).toEqual([
      expect.objectContaining({ outcome: 'terminated', resolved_from: 'index', confirmed: true, index_age_ms: 1_000 }),
    ]);
    expect(pam.calls).toEqual(['drop 11', 'lookup 1']);
    expect(fallbacks).toEqual([]);
  });

  it('finds a session opened since the index by walking the ids above it, not by the list', async () => {
    reading = indexOf(3);
    pam.sessions.push(session(5, 'erin', '10.0.0.5'));
    const report = await terminateSessions(request({ sessionIds: [idOf('erin')] }), settings(), {});
    expect(kinds(report)).toEqual({ erin: 'terminated' });
    expect(pam.calls).not.toContain('list');
    expect(pam.calls).toContain('lookup 5');
  });

  it('settles a match from the index and the walk (complete), then reads no list', async () => {
    reading = indexOf(2);
    const report = await terminateSessions(request({ criteria: [{ origin_ip: '10.0.0.3' }] }), settings(), {});
    expect(kinds(report)).toEqual({ carol: 'terminated' });
    expect(pam.calls).not.toContain('list');
  });

  it('reads the live list, counted, when lookups cannot answer', async () => {
    reading = indexOf(2);
    pam.lookupRoute = false;
    const report = await terminateSessions(request({ sessionIds: [idOf('carol')] }), settings(), {});
    expect(kinds(report)).toEqual({ carol: 'terminated' });
    expect(report.outcomes[0]).toMatchObject({ resolved_from: 'live', confirmed: null });
    expect(pam.calls.filter((call) => call === 'list')).toHaveLength(1);
    expect(fallbacks).toContain('terminate');
  });

  it('without an index, resolves from the live list', async () => {
    const report = await terminateSessions(request({ sessionIds: [idOf('bob')] }), settings(), {});
    expect(report.outcomes).toEqual([expect.objectContaining({ outcome: 'terminated', resolved_from: 'live' })]);
    expect(pam.calls[0]).toBe('list');
  });

  it('stops reading the list once every id it seeks has arrived', async () => {
    const report = await terminateSessions(request({ sessionIds: [idOf('alice')] }), settings(), {});
    expect(kinds(report)).toEqual({ alice: 'terminated' });
    expect(pam.listed).toBe(1);
  });

  it('without an index, blocks more ids than the cap whole and drops none; exactly the cap are terminated', async () => {
    const three = [idOf('alice'), idOf('bob'), idOf('carol')];
    const blocked = await terminateSessions(request({ sessionIds: three }), settings(), {});
    expect(kinds(blocked)).toEqual({ alice: 'blocked', bob: 'blocked', carol: 'blocked' });
    expect(pam.calls.filter((call) => call.startsWith('drop'))).toEqual([]);

    const two = await terminateSessions(request({ sessionIds: three.slice(0, 2) }), settings(), {});
    expect(kinds(two)).toEqual({ alice: 'terminated', bob: 'terminated' });
  });

  it('without an index, reads the whole list before acting on a match: over the cap, none is terminated', async () => {
    const report = await terminateSessions(request({ criteria: [{ protocol: 'ssh' }] }), settings(), {});
    expect(kinds(report)).toEqual({ alice: 'blocked', bob: 'blocked', carol: 'blocked' });
    expect(pam.calls).toEqual(['list']);
    expect(pam.listed).toBe(pam.sessions.length);
  });

  it("blocks a match over the cap whole, once PAM confirms the index's candidates are active, and drops none", async () => {
    reading = indexOf(4);
    const report = await terminateSessions(request({ criteria: [{ protocol: 'ssh' }] }), settings(), {});
    expect(kinds(report)).toEqual({ alice: 'blocked', bob: 'blocked', carol: 'blocked' });
    expect(pam.calls.filter((call) => call.startsWith('drop'))).toEqual([]);
    expect(pam.calls.filter((call) => call.startsWith('lookup')).sort()).toEqual(['lookup 1', 'lookup 2', 'lookup 3']);
    expect(pam.calls).not.toContain('list');
  });

  it('does not block on a stale index: candidates PAM shows ended do not count toward the cap', async () => {
    reading = indexOf(4);
    const carol = pam.sessions.find((s) => s.user === 'carol');
    if (carol) Object.assign(carol, { active: false, end: '2026-12-07 01:59:00' });
    const report = await terminateSessions(request({ criteria: [{ protocol: 'ssh' }] }), settings(), {});
    expect(kinds(report)).toEqual({ alice: 'terminated', bob: 'terminated', carol: 'already_ended' });
  });

  it('terminates exactly the cap', async () => {
    reading = indexOf(4);
    const report = await terminateSessions(
      request({ criteria: [{ protocol: 'ssh' }] }),
      settings({ maxSessionsPerEvent: 3 }),
      {},
    );
    expect(Object.values(kinds(report))).toEqual(['terminated', 'terminated', 'terminated']);
  });

  it('spares protected users and terminates the rest', async () => {
    reading = indexOf(4);
    const report = await terminateSessions(
      request({ criteria: [{ protocol: 'ssh' }] }),
      settings({ maxSessionsPerEvent: 3, protectedUsers: ['BOB'] }),
      {},
    );
    expect(kinds(report)).toEqual({ alice: 'terminated', bob: 'skipped_protected', carol: 'terminated' });
    expect(pam.calls).not.toContain('drop 22');
  });

  it('sends nothing in a dry run', async () => {
    reading = indexOf(4);
    const report = await terminateSessions(request({ sessionIds: [idOf('alice')], dryRun: true }), settings(), {});
    expect(kinds(report)).toEqual({ alice: 'would_terminate' });
    expect(pam.calls).toEqual([]);
  });

  it('decides what needs no PAM call from the index when a PAM setting is wrong', async () => {
    reading = indexOf(4);
    delete process.env.PAM_SECRET_ID;
    const report = await terminateSessions(request({ sessionIds: [idOf('alice')], dryRun: true }), settings(), {});
    expect(kinds(report)).toEqual({ alice: 'would_terminate' });
    expect(pam.calls).toEqual([]);
  });

  it('settles a refused DELETE of a session that ended meanwhile as already_ended, by lookup', async () => {
    reading = indexOf(4);
    const alice = pam.sessions.find((s) => s.user === 'alice');
    if (alice) Object.assign(alice, { active: false, end: '2026-12-07 01:59:00' });
    const report = await terminateSessions(request({ sessionIds: [idOf('alice')] }), settings(), {});
    expect(kinds(report)).toEqual({ alice: 'already_ended' });
    expect(pam.calls).toEqual(['drop 11', 'lookup 1']);
  });

  it('says confirmed false for a DELETE PAM accepted without ending the session', async () => {
    reading = indexOf(4);
    pam.ignoredDrops.add(idOf('alice'));
    const report = await terminateSessions(
      request({ sessionIds: [idOf('alice')] }),
      settings({ endedCheckAttempts: 1 }),
      {},
    );
    expect(report.outcomes[0]).toMatchObject({ outcome: 'terminated', confirmed: false });
  });

  it('reports an id PAM does not have as rejected, after the list', async () => {
    const report = await terminateSessions(request({ sessionIds: ['f'.repeat(40)] }), settings(), {});
    expect(report.outcomes).toEqual([expect.objectContaining({ outcome: 'rejected' })]);
  });

  it('throws the list failure when a match could do nothing, and says incomplete when it did something', async () => {
    pam.listFailure = new PamApiError({ kind: 'timeout', retryable: true, message: 'list timed out' });
    await expect(terminateSessions(request({ criteria: [{ origin_ip: '10.0.0.3' }] }), settings(), {})).rejects.toBe(
      pam.listFailure,
    );

    reading = indexOf(1);
    pam.lookupRoute = false;
    const report = await terminateSessions(
      request({ sessionIds: [idOf('alice')], criteria: [{ origin_ip: '10.0.0.3' }] }),
      settings(),
      {},
    );
    expect(kinds(report)).toMatchObject({ alice: 'terminated' });
    expect(report.incomplete).toMatchObject({ code: 'pam_timeout' });
  });

  it('tells the operator why the index cannot decide', async () => {
    reading = { usable: false, reason: 'the index is 900 s old' };
    const { lines } = await written(() => terminateSessions(request({ sessionIds: [idOf('bob')] }), settings(), {}));
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'The active-session index cannot decide; the live list will',
        reason: 'the index is 900 s old',
      }),
    );
  });

  it('reads nothing for a request that names nothing: no index, no secret, no log', async () => {
    const { result, lines } = await written(() => terminateSessions(request({}), settings(), {}));
    expect(result.outcomes).toEqual([]);
    expect(aws).toMatchObject({ secretReads: 0, indexReads: 0 });
    expect(pam.calls).toEqual([]);
    expect(lines.filter((line) => line.level === 'WARN')).toEqual([]);
  });

  it('says why a candidate of a stale index was not terminated', async () => {
    reading = indexOf(4);
    const carol = pam.sessions.find((s) => s.user === 'carol');
    if (carol) Object.assign(carol, { active: false, end: '2026-12-07 01:59:00' });
    const report = await terminateSessions(request({ criteria: [{ protocol: 'ssh' }] }), settings(), {});
    expect(report.outcomes.find((o) => o.session?.user === 'carol')).toMatchObject({
      outcome: 'already_ended',
      message: 'the index showed it active; the PAM Core no longer does',
    });
  });

  it('asks PAM nothing before the DELETEs when only sessions it spares push a match over the cap', async () => {
    reading = indexOf(4);
    const report = await terminateSessions(
      request({ criteria: [{ protocol: 'ssh' }] }),
      settings({ protectedUsers: ['carol'] }),
      {},
    );
    expect(kinds(report)).toEqual({ alice: 'terminated', bob: 'terminated', carol: 'skipped_protected' });
    expect(pam.calls.slice(0, 2).sort()).toEqual(['drop 11', 'drop 22']);
  });

  it('counts a full-list fallback, with its reason, only when an index was there to serve', async () => {
    await terminateSessions(request({ sessionIds: [idOf('bob')] }), settings(), {});
    expect(fallbacks).toEqual([]);

    reading = indexOf(2);
    pam.lookupRoute = false;
    await terminateSessions(request({ sessionIds: [idOf('carol')] }), settings(), {});
    expect(fallbackReasons).toContain('ids neither the index nor the sessions since it know');
  });

  it('reports the ids a failed list left unresolved as failed, with its message, and asks PAM nothing more', async () => {
    pam.listFailure = new PamApiError({ kind: 'timeout', retryable: true, message: 'list timed out' });
    reading = indexOf(1);
    pam.lookupRoute = false;
    const alice = pam.sessions.find((s) => s.user === 'alice');
    if (alice) Object.assign(alice, { active: false, end: '2026-12-07 01:59:00' });
    const report = await terminateSessions(request({ sessionIds: [idOf('alice'), idOf('carol')] }), settings(), {});
    expect(report.outcomes.find((o) => o.session_id === idOf('carol'))).toMatchObject({
      outcome: 'failed',
      message: 'list timed out',
    });
    // The refused DELETE of alice is not settled by asking again a PAM whose list just failed.
    expect(kinds(report)).toMatchObject({ alice: 'failed' });
    expect(pam.calls.slice(pam.calls.indexOf('list') + 1)).toEqual([]);
    // Ids alone: each has its own outcome, and the report is not "incomplete".
    expect(report.incomplete).toBeUndefined();
  });

  it('keeps as a blocked request only the sessions that were blocked', async () => {
    reading = indexOf(4);
    await terminateSessions(request({ criteria: [{ protocol: 'ssh' }] }), settings(), {});
    await terminateSessions(request({ sessionIds: [idOf('alice')] }), settings(), {});
    expect(aws.keptBlocked.map((ids) => [...ids].sort())).toEqual([[idOf('alice'), idOf('bob'), idOf('carol')], []]);
  });

  it('counts the records S3 did not take (RecordWriteFailed), and nothing when it took them all', async () => {
    reading = indexOf(4);
    const recordFailures = (lines: Array<Record<string, unknown>>) =>
      lines.filter((line) => 'RecordWriteFailed' in line).map((line) => line.RecordWriteFailed);
    aws.unrecorded = 2;
    const failing = await written(() => terminateSessions(request({ sessionIds: [idOf('alice')] }), settings(), {}));
    expect(recordFailures(failing.lines)).toEqual([2]);

    aws.unrecorded = 0;
    const taken = await written(() => terminateSessions(request({ sessionIds: [idOf('bob')] }), settings(), {}));
    expect(recordFailures(taken.lines)).toEqual([]);
  });

  it('keeps 2 s of the invocation for the report: PAM is not asked again after a DELETE when less is left', async () => {
    reading = indexOf(4);
    pam.ignoredDrops.add(idOf('alice'));
    const report = await terminateSessions(
      request({ sessionIds: [idOf('alice')] }),
      settings({ endedCheckAttempts: 3 }),
      { deadline: Date.now() + 3_400 },
    );
    expect(report.outcomes[0]).toMatchObject({ outcome: 'terminated', confirmed: false });
    expect(pam.calls.filter((call) => call.startsWith('lookup'))).toEqual(['lookup 1']);
  });

  it('says what an incomplete match missed, in the response and in a warning', async () => {
    pam.listFailure = new PamApiError({ kind: 'timeout', retryable: true, message: 'list timed out' });
    reading = indexOf(1);
    pam.lookupRoute = false;
    const { result, lines } = await written(() =>
      terminateSessions(
        request({ sessionIds: [idOf('alice')], criteria: [{ origin_ip: '10.0.0.3' }] }),
        settings(),
        {},
      ),
    );
    const incomplete = {
      code: 'pam_timeout',
      message:
        'the live list could not be read to its end (list timed out): sessions it would have matched were not terminated',
    };
    expect(result.incomplete).toEqual(incomplete);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'Termination incomplete',
        code: incomplete.code,
        reason: incomplete.message,
        trigger: expect.objectContaining({ event_id: 'e-1' }),
      }),
    );
  });

  it('without an index, sends the DELETE of a sought id as it arrives, up to exactly the cap', async () => {
    const report = await terminateSessions(request({ sessionIds: [idOf('alice'), idOf('carol')] }), settings(), {});
    expect(kinds(report)).toEqual({ alice: 'terminated', carol: 'terminated' });
    // alice's DELETE is out before carol's record (the third) is read.
    expect(pam.listedAtDrop.alice).toBeLessThan(3);
  });

  it('with an index, terminates a match the list shows as it arrives, before the rest of the list', async () => {
    reading = indexOf(1);
    pam.lookupRoute = false;
    const report = await terminateSessions(request({ criteria: [{ origin_ip: '10.0.0.2' }] }), settings(), {});
    expect(kinds(report)).toEqual({ bob: 'terminated' });
    // bob's DELETE is out before the list's last record is read; the list is still read to its end.
    expect(pam.listedAtDrop.bob).toBeLessThan(pam.sessions.length);
    expect(pam.listed).toBe(pam.sessions.length);
  });
});
