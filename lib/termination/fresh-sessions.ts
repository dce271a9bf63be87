import { errorMessage } from '../core/errors.js';
import { logger } from '../core/logger.js';
import type { ActiveIndex } from '../inventory/active-index.js';
import { recordFullListFallback } from '../inventory/inventory-metrics.js';
import { type PamCallOptions, streamRemoteSessions } from '../pam/pam-client.js';
import { isNumericSessionId, LookupUnavailableError, lookupSessions } from '../pam/session-lookup.js';
import { sessionsOpenedSince, type TailOptions, type TailResult } from '../pam/session-tail.js';
import type { RemoteSession } from '../sessions/remote-session.js';
import type { Outcome } from './outcome.js';

/**
 * What a termination asks PAM about one session at a time instead of reading its whole history:
 * the sessions opened since the index, and whether candidates are still active. Each falls back to
 * the full list only when lookups cannot answer, and counts it (FullListFallback).
 */

export type SinceIndex =
  | ({ via: 'lookup' } & TailResult)
  /** Lookups cannot tell: read the full list (already counted as FullListFallback). */
  | { via: 'list'; reason: string };

/**
 * The sessions opened after the index was listed (ids above its highest_id), active and ended, by
 * lookup. `onSession` may start acting on each as it arrives, and stop the walk once what was sought
 * is found (a request by ids); a match lets it run to its end.
 */
export async function sessionsSinceIndex(
  index: ActiveIndex | undefined,
  options: TailOptions = {},
): Promise<SinceIndex> {
  const highest = index?.highest_id;
  if (highest === undefined || highest === null) {
    const reason = index ? 'the index knows no numeric session id' : 'there is no usable index';
    recordFullListFallback('sessions_since_index', reason);
    return { via: 'list', reason };
  }
  try {
    return { via: 'lookup', ...(await sessionsOpenedSince(highest, options)) };
  } catch (error) {
    if (!(error instanceof LookupUnavailableError)) throw error;
    recordFullListFallback('sessions_since_index', error.message);
    return { via: 'list', reason: error.message };
  }
}

/** What a session is looked up by: its numeric id, checked against its session_id (an outcome's facts will do). */
export type SessionKey = Pick<RemoteSession, 'session_id' | 'id'>;

export interface SessionState {
  /** Still open now. */
  active: boolean;
  /** PAM's record now; null when PAM no longer has the session (purged, or never there). */
  session: RemoteSession | null;
  via: 'lookup' | 'list';
}

/** Ends the list once every session sought is found. */
async function statesFromList(
  sought: readonly SessionKey[],
  options: PamCallOptions,
  states: Map<string, SessionState>,
): Promise<void> {
  const pending = new Set(sought.map((session) => session.session_id));
  for await (const sessions of streamRemoteSessions(options)) {
    for (const session of sessions) {
      if (!pending.delete(session.session_id)) continue;
      states.set(session.session_id, { active: session.active, session, via: 'list' });
    }
    if (pending.size === 0) break;
  }
  for (const id of pending) states.set(id, { active: false, session: null, via: 'list' });
}

/**
 * Whether each session is still open now, by session_id: looked up by its numeric id, a few at a
 * time; the full list is read (and counted) only for those without a numeric id, those whose lookup
 * answers another session_id, or all of them when PAM cannot answer lookups. For settling a refused
 * DELETE, confirming a session ended after its termination, and rechecking candidates before a block.
 * Throws PamApiError when PAM cannot be asked at all.
 */
export async function confirmActive(
  sessions: readonly SessionKey[],
  options: PamCallOptions = {},
): Promise<Map<string, SessionState>> {
  const states = new Map<string, SessionState>();
  const numeric = sessions.filter((session) => isNumericSessionId(session.id));
  let listed = sessions.filter((session) => !isNumericSessionId(session.id));
  let reason = listed.length > 0 ? 'a session without a numeric id' : '';
  try {
    const found = await lookupSessions(
      numeric.map((session) => session.id as string),
      options,
    );
    for (const session of numeric) {
      const now = found.get(session.id as string);
      if (now === undefined) states.set(session.session_id, { active: false, session: null, via: 'lookup' });
      else if (now.session_id === session.session_id)
        states.set(session.session_id, { active: now.active, session: now, via: 'lookup' });
      else {
        // The id now names another session: only the list can tell about this one.
        listed.push(session);
        reason ||= 'a numeric id answered with another session_id';
      }
    }
  } catch (error) {
    if (!(error instanceof LookupUnavailableError)) throw error;
    listed = [...sessions];
    reason = error.message;
  }
  if (listed.length > 0) {
    recordFullListFallback('confirm_active', reason);
    await statesFromList(listed, options, states);
  }
  return states;
}

/** Whether one session is still open now (confirmActive for one). */
export async function isSessionActiveNow(session: SessionKey, options: PamCallOptions = {}): Promise<boolean> {
  return (await confirmActive([session], options)).get(session.session_id)?.active ?? false;
}

/**
 * PAM answers the same 500 for a failed drop and for a session that has already ended, and a
 * timed-out drop may have happened: each failed drop's session is looked up (confirmActive), and
 * those no longer active (or gone) are `already_ended`. When PAM cannot be asked, they stay failed.
 * A replacement for reading the whole list to settle them.
 */
export async function settleRefusedDrops(outcomes: Outcome[], options: PamCallOptions = {}): Promise<Outcome[]> {
  const failed = outcomes.filter((outcome) => outcome.outcome === 'failed' && outcome.session);
  if (failed.length === 0) return outcomes;
  let states: Map<string, SessionState>;
  try {
    states = await confirmActive(
      failed.map((outcome) => ({ session_id: outcome.session_id, id: outcome.session?.id ?? null })),
      options,
    );
  } catch (error) {
    logger.warn('Could not re-check failed drops', { reason: errorMessage(error) });
    return outcomes;
  }
  return outcomes.map((outcome) =>
    outcome.outcome === 'failed' && outcome.session && states.get(outcome.session_id)?.active === false
      ? {
          ...outcome,
          outcome: 'already_ended',
          message: 'no longer active after an ambiguous answer to the drop',
          error: undefined,
        }
      : outcome,
  );
}
