import { beforeEach, describe, expect, it, vi } from 'vitest';
import { terminationSettings } from '../../lib/core/settings.js';
import { type ActiveIndex, type IndexReading, parseActiveIndex } from '../../lib/inventory/active-index.js';
import { PamApiError } from '../../lib/pam/pam-errors.js';
import type { RemoteSession } from '../../lib/sessions/remote-session.js';
import { terminateSessions } from '../../lib/termination/terminate-sessions.js';
import type { TerminationRequest } from '../../lib/termination/termination-request.js';

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
};
let reading: IndexReading = { usable: false, reason: 'no index' };
const fallbacks: string[] = [];

const refused = (message: string, extra: Partial<ConstructorParameters<typeof PamApiError>[0]> = {}) =>
  new PamApiError({ kind: 'rejected', status: 500, retryable: false, message, pamErrorCode: 1, ...extra });

vi.mock('../../lib/pam/pam-client.js', () => ({
  dropSession: async (sessionId: string) => {
    pam.calls.push(`drop ${sessionId.slice(0, 2)}`);
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
vi.mock('../../lib/pam/pam-secret.js', () => ({ prefetchPamConnection: async () => undefined }));
vi.mock('../../lib/inventory/active-index.js', async (importActual) => ({
  ...(await importActual<typeof import('../../lib/inventory/active-index.js')>()),
  readActiveIndex: async () => reading,
  indexRefreshed: async () => undefined,
}));
vi.mock('../../lib/inventory/inventory-metrics.js', () => ({
  recordFullListFallback: (caller: string) => fallbacks.push(caller),
}));
vi.mock('../../lib/inventory/termination-records.js', () => ({
  recordTerminated: async () => 0,
  terminatedAmong: async () => new Map(),
}));
vi.mock('../../lib/aws/audit-trail.js', () => ({
  publishAuditEvents: async (events: unknown[]) => ({ published: events.length, failed: 0 }),
}));
vi.mock('../../lib/termination/blocked-requests.js', () => ({ keepBlockedRequest: async () => undefined }));
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
  reading = { usable: false, reason: 'no index' };
  fallbacks.length = 0;
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
});
