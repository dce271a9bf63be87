import { indexerSettings } from '../core/settings.js';
import type { PamCallOptions } from '../pam/pam-client.js';
import { type IndexSummary, indexSessions } from './index-sessions.js';

/** An update is not started unless it can be over this long before the invocation's deadline. */
const DEADLINE_MARGIN_MS = 15_000;

/** The last update's summary, and how many updates the run made. */
export type IndexRunSummary = IndexSummary & { updates: number };

/**
 * One scheduled run of the indexer (a minute apart: the schedule's shortest rate): it updates the
 * index at once, then INDEX_UPDATES_PER_MINUTE − 1 more times, evenly spaced within the minute, each
 * by lookup only, so that the index a reader sees is never older than 60 s / N plus one update. An
 * update that would start after its slot (the first ran long: a full list) or too near the deadline
 * is left to the next run.
 */
export async function runIndexUpdates(options: PamCallOptions & { now?: () => number } = {}): Promise<IndexRunSummary> {
  const now = options.now ?? Date.now;
  const { updatesPerMinute } = indexerSettings();
  const spacingMs = 60_000 / updatesPerMinute;
  const startedAt = now();
  const updates = [await indexSessions(options)];
  for (let slot = 1; slot < updatesPerMinute; slot += 1) {
    const at = startedAt + slot * spacingMs;
    if (now() > at) break;
    if (options.deadline !== undefined && at + DEADLINE_MARGIN_MS > options.deadline) break;
    await new Promise((resolve) => setTimeout(resolve, at - now()));
    updates.push(await indexSessions({ ...options, refreshOnly: true }));
  }
  return { ...(updates.at(-1) as IndexSummary), updates: updates.length };
}
