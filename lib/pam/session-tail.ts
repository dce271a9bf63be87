import { lookupSettings } from '../core/settings.js';
import type { RemoteSession } from '../sessions/remote-session.js';
import type { PamCallOptions } from './pam-client.js';
import { isNumericSessionId, lookupSession } from './session-lookup.js';

export interface WalkRules {
  /** Probes in flight at once. */
  concurrency: number;
  /** The walk ends once this many ids in a row above the highest found are missing. */
  stopAfterMisses: number;
  /** Probes allowed in all; beyond them the walk stops, incomplete. */
  maxProbes?: number;
}

export interface WalkResult<T> {
  /** What was found, in id order. */
  found: Array<{ id: number; value: T }>;
  probes: number;
  /** The highest id found, or the starting one. */
  highest: number;
  /** Whether the walk reached its end: `stopAfterMisses` ids in a row missing above the highest found. */
  complete: boolean;
}

/**
 * Probes the ids above `start` upwards, a few at a time, until `stopAfterMisses` ids in a row
 * above the highest found are missing (ids may have gaps). `onFound` returning true stops it early
 * (what was sought is found). A failing probe stops it: the failure is thrown once the probes in
 * flight are over.
 */
export async function walkIdsAbove<T>(
  start: number,
  probe: (id: number) => Promise<T | undefined>,
  rules: WalkRules,
  onFound?: (id: number, value: T) => boolean | undefined,
): Promise<WalkResult<T>> {
  const found = new Map<number, T>();
  const inFlight = new Set<Promise<void>>();
  const maxProbes = rules.maxProbes ?? Number.POSITIVE_INFINITY;
  let highest = start;
  let next = start + 1;
  let probes = 0;
  let stopped = false;
  let failure: { error: unknown } | undefined;

  const settle = (id: number, value: T | undefined) => {
    if (value === undefined) return;
    found.set(id, value);
    highest = Math.max(highest, id);
    if (onFound?.(id, value) === true) stopped = true;
  };
  for (;;) {
    // No id beyond the misses that would end the walk is asked: a find above them would move the end.
    while (!stopped && !failure && inFlight.size < rules.concurrency && next <= highest + rules.stopAfterMisses) {
      if (probes >= maxProbes) {
        stopped = true;
        break;
      }
      const id = next;
      next += 1;
      probes += 1;
      const pending: Promise<void> = probe(id)
        .then((value) => settle(id, value))
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => inFlight.delete(pending));
      inFlight.add(pending);
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight);
  }
  if (failure) throw failure.error;
  return {
    found: [...found].sort(([a], [b]) => a - b).map(([id, value]) => ({ id, value })),
    probes,
    highest,
    complete: !stopped,
  };
}

export interface TailOptions extends PamCallOptions {
  /** Told of each session as it is found (not in id order); true stops the walk: what was sought is found. */
  onSession?: (session: RemoteSession) => boolean | undefined;
  /** Lookups allowed in all (a budget); beyond them the walk stops, incomplete. */
  maxLookups?: number;
}

export interface TailResult {
  /** The sessions found, active and ended, in id order. */
  sessions: RemoteSession[];
  lookups: number;
  /** The highest numeric id found, or the one the walk started from. */
  highestId: number;
  /** false: stopped before the end (onSession said so, or maxLookups ran out): sessions above may be missing. */
  complete: boolean;
}

/**
 * The sessions opened since a list whose highest numeric id was `highestId`, without the list:
 * PAM's numeric ids grow with time, so they are looked up one by one upwards, LOOKUP_CONCURRENCY
 * at a time, until PAM answers "not found" TAIL_STOP_AFTER_MISSES (5) times in a row. Throws
 * LookupUnavailableError when PAM cannot answer lookups: the caller reads the full list instead.
 */
export async function sessionsOpenedSince(highestId: number, options: TailOptions = {}): Promise<TailResult> {
  const { concurrency, stopAfterMisses } = lookupSettings();
  const { onSession, maxLookups, ...call } = options;
  const walk = await walkIdsAbove(
    highestId,
    (id) => lookupSession(String(id), call),
    { concurrency, stopAfterMisses, ...(maxLookups === undefined ? {} : { maxProbes: maxLookups }) },
    onSession && ((_, session) => onSession(session)),
  );
  return {
    sessions: walk.found.map(({ value }) => value),
    lookups: walk.probes,
    highestId: walk.highest,
    complete: walk.complete,
  };
}

/** The highest numeric id among sessions (null when none has one): where the next walk starts. */
export function highestNumericId(ids: Iterable<string | null>): number | null {
  let highest: number | null = null;
  for (const id of ids) {
    if (!isNumericSessionId(id)) continue;
    const value = Number(id);
    if (highest === null || value > highest) highest = value;
  }
  return highest;
}
