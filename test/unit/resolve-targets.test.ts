import { describe, expect, it } from 'vitest';
import { terminationSettings } from '../../lib/core/settings.js';
import type { ActiveIndex, EndedSession, IndexView } from '../../lib/inventory/active-index.js';
import type { RemoteSession } from '../../lib/sessions/remote-session.js';
import type { MatchCriteria } from '../../lib/sessions/session-match.js';
import { type Target, TargetResolver } from '../../lib/termination/resolve-targets.js';
import { SessionNotFoundError } from '../../lib/termination/termination-errors.js';
import type { TerminationRequest } from '../../lib/termination/termination-request.js';
import { normalisedSession } from '../support/fixtures.js';

const session = normalisedSession;

function request(sessionIds: string[], criteria: MatchCriteria[] = [], occurredAt?: number): TerminationRequest {
  return {
    sessionIds,
    criteria,
    reason: 'test',
    requestedBy: undefined,
    dryRun: false,
    trigger: { event_id: 'e-1', source: 'test', detail_type: 'test' },
    ...(occurredAt === undefined ? {} : { occurredAt }),
  };
}

function view(active: RemoteSession[], ended: RemoteSession[] = []): IndexView {
  return {
    index: {} as ActiveIndex,
    active: new Map(active.map((s) => [s.session_id, s])),
    ended: new Map(ended.map((s) => [s.session_id, { ...s, seen_ended_at: '2026-12-07T00:00:00Z' } as EndedSession])),
  };
}

const settings = (protectedUsers: string[] = [], protectedCredentials: string[] = []) => ({
  ...terminationSettings(),
  protectedUsers,
  protectedCredentials,
});

const summary = (target: Target | undefined) =>
  target === undefined
    ? undefined
    : 'decided' in target
      ? { id: target.decided.session_id, decided: target.decided.outcome, from: target.decided.resolved_from }
      : { id: target.candidate.session_id, candidate: true, from: target.from, byId: target.byId };

const alice = session({ session_id: '11', user: 'alice' });
const bob = session({ session_id: '12', user: 'bob', credential: 'oracle' });
const ended = session({ session_id: '13', user: 'alice', end: '2026-12-06 23:00:00' });

describe('TargetResolver', () => {
  it('takes the ids the index knows from it, an ended one as already ended, and each session once', () => {
    const resolver = new TargetResolver(request(['11', '13', '11', '99']), settings(), {
      index: view([alice, bob], [ended]),
      indexAgeMs: 1_000,
    });
    const targets = resolver.fromKnown();
    expect(targets.map(summary)).toEqual([
      { id: '11', candidate: true, from: 'index', byId: true },
      { id: '13', decided: 'already_ended', from: 'index' },
    ]);
    const decided = targets[1] as { decided: { message: string; index_age_ms: number | null } };
    expect(decided.decided.message).toBe('ended at 2026-12-06 23:00:00');
    expect(decided.decided.index_age_ms).toBe(1_000);
    expect(resolver.soughtIds).toBe(1);
    expect(resolver.usesIndex).toBe(true);
    expect(resolver.needsLiveList).toBe(true);
    expect(resolver.liveListDone).toBe(false);
  });

  it('matches the index active sessions for criteria, never an ended one, and needs the live list for newer ones', () => {
    const resolver = new TargetResolver(request([], [{ user: 'alice' }]), settings(), {
      index: view([alice, bob], [ended]),
      indexAgeMs: 0,
    });
    expect(resolver.fromKnown().map(summary)).toEqual([{ id: '11', candidate: true, from: 'index', byId: false }]);
    expect(resolver.soughtIds).toBe(0);
    expect(resolver.needsLiveList).toBe(true);
    expect(resolver.liveListDone).toBe(false);
    resolver.settleMatches();
    expect(resolver.needsLiveList).toBe(false);
  });

  it('needs no live list once every id is found and nothing is matched', () => {
    const resolver = new TargetResolver(request(['11', '12']), settings(), {
      index: view([alice, bob]),
      indexAgeMs: 0,
    });
    expect(resolver.needsLiveList).toBe(true);
    expect(resolver.fromKnown()).toHaveLength(2);
    expect(resolver.needsLiveList).toBe(false);
    expect(resolver.liveListDone).toBe(true);
  });

  it('skips a session whose user or credential a protected entry covers, whichever entry it is', () => {
    const resolver = new TargetResolver(
      request(['11', '12', '13'], []),
      settings(['svc-backup', 'CORP\\alice'], ['sys', 'oracle']),
      { index: view([alice, bob], [ended]), indexAgeMs: 0 },
    );
    const targets = resolver.fromKnown();
    expect(targets.map(summary)).toEqual([
      { id: '11', decided: 'skipped_protected', from: 'index' },
      { id: '12', decided: 'skipped_protected', from: 'index' },
      // Ended: nothing to protect it from.
      { id: '13', decided: 'already_ended', from: 'index' },
    ]);
    const messages = targets.map((t) => ('decided' in t ? t.decided.message : undefined));
    expect(messages[0]).toBe('user "alice" is protected (PROTECTED_USERS)');
    expect(messages[1]).toBe('credential "oracle" is protected (PROTECTED_CREDENTIALS)');
  });

  it('reads each list of protected names as it is now, never as another list with the same letters', () => {
    const known = { index: view([session({ session_id: '15', user: 'bc' })]), indexAgeMs: 0 };
    const first = new TargetResolver(request(['15']), settings(['ab', 'c']), known).fromKnown();
    expect(first.map(summary)).toEqual([{ id: '15', candidate: true, from: 'index', byId: true }]);
    const second = new TargetResolver(request(['15']), settings(['a', 'bc']), known).fromKnown();
    expect(second.map(summary)).toEqual([{ id: '15', decided: 'skipped_protected', from: 'index' }]);
  });

  it('acts on a session no protected entry covers, and on one without a user or credential', () => {
    const anonymous = session({ session_id: '14', user: null, credential: null });
    const resolver = new TargetResolver(request(['12', '14']), settings(['alice', 'root'], ['alice']), {
      index: view([bob, anonymous]),
      indexAgeMs: 0,
    });
    expect(resolver.fromKnown().map(summary)).toEqual([
      { id: '12', candidate: true, from: 'index', byId: true },
      { id: '14', candidate: true, from: 'index', byId: true },
    ]);
  });

  it('takes from the live list the ids still sought and the matches the index did not hold, once each', () => {
    const carol = session({ session_id: '20', user: 'alice' });
    const dave = session({ session_id: '21', user: 'dave' });
    const resolver = new TargetResolver(request(['21'], [{ user: 'alice' }]), settings(), {
      index: view([alice]),
      indexAgeMs: 0,
    });
    expect(resolver.fromKnown().map(summary)).toEqual([{ id: '11', candidate: true, from: 'index', byId: false }]);
    // The index's active session was matched already; the live list's copy of it is not a second target.
    expect(resolver.fromLive(alice)).toBeUndefined();
    expect(summary(resolver.fromLive(carol))).toEqual({ id: '20', candidate: true, from: 'live', byId: false });
    expect(resolver.fromLive(carol)).toBeUndefined();
    expect(summary(resolver.fromLive(dave))).toEqual({ id: '21', candidate: true, from: 'live', byId: true });
    expect(resolver.fromLive(session({ session_id: '22', user: 'erin' }))).toBeUndefined();
    // A session that ended matches nothing.
    expect(resolver.fromLive(session({ session_id: '23', user: 'alice', end: '2026-12-06 22:00:00' }))).toBeUndefined();
    expect(resolver.soughtIds).toBe(0);
  });

  it('without an index, the live list decides every target', () => {
    const resolver = new TargetResolver(request(['11'], [{ user: 'bob' }]), settings(), {
      index: undefined,
      indexAgeMs: null,
    });
    expect(resolver.usesIndex).toBe(false);
    expect(resolver.fromKnown()).toEqual([]);
    expect(summary(resolver.fromLive(alice))).toEqual({ id: '11', candidate: true, from: 'live', byId: true });
    const target = resolver.fromLive(bob);
    expect(summary(target)).toEqual({ id: '12', candidate: true, from: 'live', byId: false });
    const outcome = resolver.outcome('12', 'terminated', bob, 'live');
    expect(outcome.index_age_ms).toBeNull();
    expect(outcome.session).toEqual({
      id: null,
      user: 'bob',
      origin_ip: '172.16.20.131',
      device: '10.66.33.17:22',
      credential: 'oracle',
      protocol: 'ssh',
    });
    expect(outcome).not.toHaveProperty('message');
    expect(outcome).not.toHaveProperty('error');
  });

  it('counts the event age from when the trigger happened', () => {
    const resolver = new TargetResolver(request(['11'], [], Date.now() - 60_000), settings(), {
      index: undefined,
      indexAgeMs: null,
    });
    const age = resolver.outcome('11', 'terminated', null, 'live').event_age_ms;
    expect(age).toBeGreaterThanOrEqual(60_000);
    expect(age).toBeLessThan(300_000);
    const now = new TargetResolver(request(['11']), settings(), { index: undefined, indexAgeMs: null });
    expect(now.outcome('11', 'terminated', null, 'live').event_age_ms).toBeLessThan(60_000);
  });

  it('reports the ids never found: not there (nothing sent), failed with the list, or blocked with the request', () => {
    const known = { index: view([alice]), indexAgeMs: 5 };
    const missing = new TargetResolver(request(['98', '99']), settings(), known);
    const notThere = missing.unresolved('failed');
    expect(notThere.map((o) => [o.session_id, o.outcome, o.resolved_from])).toEqual([
      ['98', 'failed', 'live'],
      ['99', 'failed', 'live'],
    ]);
    expect(notThere[0]?.message).toBe("session 98 is not in the PAM Core's session list; nothing was sent");
    expect(notThere[0]?.error).toBeInstanceOf(SessionNotFoundError);
    expect(missing.unresolved('failed')).toEqual([]);
    expect(missing.soughtIds).toBe(0);

    const error = new SessionNotFoundError('list broke off');
    const listFailed = new TargetResolver(request(['98']), settings(), known).unresolved('failed', {
      message: 'list broke off',
      error,
    });
    expect(listFailed).toMatchObject([
      { session_id: '98', outcome: 'failed', resolved_from: 'live', message: 'list broke off', error },
    ]);

    const blocked = new TargetResolver(request(['98']), settings(), known).unresolved('blocked', { message: 'held' });
    expect(blocked).toMatchObject([{ session_id: '98', outcome: 'blocked', resolved_from: 'index', message: 'held' }]);
    expect(blocked[0]).not.toHaveProperty('error');
  });
});
