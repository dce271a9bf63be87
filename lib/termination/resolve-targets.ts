import type { TerminationSettings } from '../core/settings.js';
import type { IndexView } from '../inventory/active-index.js';
import { type AccountName, parseAccountName, protects } from '../sessions/account-name.js';
import type { RemoteSession } from '../sessions/remote-session.js';
import { sessionMatches } from '../sessions/session-match.js';
import { type Outcome, type OutcomeKind, type ResolvedFrom, sessionFacts } from './outcome.js';
import { SessionNotFoundError } from './termination-errors.js';
import type { TerminationRequest } from './termination-request.js';

/** What is known before the PAM Core is asked anything. */
export interface KnownSessions {
  /** The active-session index, when it is fresh enough to decide. */
  index: IndexView | undefined;
  indexAgeMs: number | null;
}

/** A target whose outcome is known without acting, or a session to act on. */
export type Target =
  | { decided: Outcome }
  | { candidate: RemoteSession; from: ResolvedFrom /** Named by id, not found by a match. */; byId: boolean };

/** The settings' lists, parsed once per content (NFKC and case folding are not free); keyed by what they say, never stale. */
const parsedLists = new Map<string, AccountName[]>();
function parsedNames(names: readonly string[]): AccountName[] {
  const key = names.join('\u0000');
  let parsed = parsedLists.get(key);
  if (!parsed) {
    parsed = names.map(parseAccountName);
    parsedLists.set(key, parsed);
  }
  return parsed;
}

export const terminatedMessage = (at: string) => `terminated by this deployment at ${at}`;

/**
 * Turns a request into targets: first from the index, then record by record from the live list, for the ids the index lacks and the
 * sessions opened after it was written. Each session is a target once.
 */
export class TargetResolver {
  private readonly seen = new Set<string>();
  private readonly pending: Set<string>;
  private readonly protectedUsers: AccountName[];
  private readonly protectedCredentials: AccountName[];

  constructor(
    private readonly request: TerminationRequest,
    settings: TerminationSettings,
    private readonly known: KnownSessions,
  ) {
    this.pending = new Set(request.sessionIds);
    this.protectedUsers = parsedNames(settings.protectedUsers);
    this.protectedCredentials = parsedNames(settings.protectedCredentials);
  }

  /** Whether targets are resolved from the index first (else the live list decides every target). */
  get usesIndex(): boolean {
    return this.known.index !== undefined;
  }

  /** How many of the request's ids are still sought. */
  get soughtIds(): number {
    return this.pending.size;
  }

  /** The sessions opened since the index were all looked up: only ids still sought need the live list. */
  private matchesSettled = false;

  /** Whether the live list still has something to tell: ids not found yet, or matches newer than the index. */
  get needsLiveList(): boolean {
    return this.pending.size > 0 || (this.request.criteria.length > 0 && !this.matchesSettled);
  }

  /** Every session opened since the index was looked up: matches need no list. */
  settleMatches(): void {
    this.matchesSettled = true;
  }

  /** Whether reading the live list further can change nothing (only ids were asked, and all were found). */
  get liveListDone(): boolean {
    return this.pending.size === 0 && this.request.criteria.length === 0;
  }

  outcome(
    sessionId: string,
    outcome: OutcomeKind,
    session: RemoteSession | null,
    from: ResolvedFrom,
    extra: Pick<Outcome, 'message' | 'error'> = {},
  ): Outcome {
    return {
      session_id: sessionId,
      outcome,
      session: session ? sessionFacts(session) : null,
      ...(extra.message ? { message: extra.message } : {}),
      resolved_from: from,
      index_age_ms: this.known.indexAgeMs,
      event_age_ms: Date.now() - (this.request.occurredAt ?? Date.now()),
      ...(extra.error ? { error: extra.error } : {}),
    };
  }

  /** Compared as account names, erring towards protecting (lib/sessions/account-name.ts). */
  private protection(session: RemoteSession): string | undefined {
    const covered = (entries: AccountName[], name: string | null) =>
      name !== null && entries.some((entry) => protects(entry, parseAccountName(name)));
    if (covered(this.protectedUsers, session.user)) return `user "${session.user}" is protected (PROTECTED_USERS)`;
    if (covered(this.protectedCredentials, session.credential))
      return `credential "${session.credential}" is protected (PROTECTED_CREDENTIALS)`;
    return undefined;
  }

  /** One session the request targets, the first time it is seen. */
  private target(session: RemoteSession, from: ResolvedFrom, byId: boolean): Target | undefined {
    const id = session.session_id;
    if (this.seen.has(id)) return undefined;
    this.seen.add(id);
    this.pending.delete(id);
    if (!session.active)
      return { decided: this.outcome(id, 'already_ended', session, from, { message: `ended at ${session.end}` }) };
    const protectedBy = this.protection(session);
    if (protectedBy) return { decided: this.outcome(id, 'skipped_protected', session, from, { message: protectedBy }) };
    return { candidate: session, from, byId };
  }

  private matches(session: RemoteSession): boolean {
    return session.active && this.request.criteria.some((criteria) => sessionMatches(session, criteria));
  }

  /** Phase 1: the ids and matches the index can settle. */
  fromKnown(): Target[] {
    const targets: Target[] = [];
    const push = (target: Target | undefined) => target && targets.push(target);
    const index = this.known.index;
    for (const id of this.request.sessionIds) {
      const known = index?.active.get(id) ?? index?.ended.get(id);
      if (known) push(this.target(known, 'index', true));
    }
    // A request of ids only matches nothing: the index's sessions are not walked for it.
    if (this.request.criteria.length === 0) return targets;
    for (const session of index?.active.values() ?? [])
      if (this.matches(session)) push(this.target(session, 'index', false));
    return targets;
  }

  /** Phase 2: one record of the live list; a target if it is an id still sought or a match the index could not know. */
  fromLive(session: RemoteSession): Target | undefined {
    if (this.pending.has(session.session_id)) return this.target(session, 'live', true);
    // The index's active sessions were matched in phase 1 (a session's facts never change).
    if (this.known.index?.active.has(session.session_id)) return undefined;
    return this.matches(session) ? this.target(session, 'live', false) : undefined;
  }

  /** The ids still sought: blocked with the request, failed because the list could not be read, or not there. */
  unresolved(outcome: 'blocked' | 'failed', extra: Pick<Outcome, 'message' | 'error'> = {}): Outcome[] {
    const ids = [...this.pending];
    this.pending.clear();
    return ids.map((id) => {
      if (outcome === 'failed' && !extra.error) {
        const message = `session ${id} is not in the PAM Core's session list; nothing was sent`;
        return this.outcome(id, 'failed', null, 'live', { message, error: new SessionNotFoundError(message) });
      }
      return this.outcome(id, outcome, null, outcome === 'blocked' ? 'index' : 'live', extra);
    });
  }
}
