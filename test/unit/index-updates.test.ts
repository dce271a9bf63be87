import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { IndexSummary } from '../../lib/inventory/index-sessions.js';
import { runIndexUpdates } from '../../lib/inventory/index-updates.js';

/** How long each mocked update takes on the fake clock, and when each started (ms after the run began). */
const update = { ms: 2_000 };
const calls: Array<{ refreshOnly: boolean; at: number }> = [];
let startedAt = 0;

vi.mock('../../lib/inventory/index-sessions.js', () => ({
  indexSessions: async (options: { refreshOnly?: boolean }) => {
    calls.push({ refreshOnly: options.refreshOnly === true, at: Date.now() - startedAt });
    vi.setSystemTime(Date.now() + update.ms);
    return { s3_uri: 's3://bucket/index/active-sessions.json', kind: 'refresh', lookups: calls.length } as IndexSummary;
  },
}));

beforeEach(() => {
  vi.useFakeTimers();
  startedAt = Date.now();
  update.ms = 2_000;
  calls.length = 0;
});

afterEach(() => {
  vi.useRealTimers();
  delete process.env.INDEX_UPDATES_PER_MINUTE;
});

/** One run, its waits played out on the fake clock. */
async function run(updatesPerMinute: number, deadlineAfterMs?: number) {
  process.env.INDEX_UPDATES_PER_MINUTE = String(updatesPerMinute);
  const running = runIndexUpdates(deadlineAfterMs === undefined ? {} : { deadline: startedAt + deadlineAfterMs });
  await vi.runAllTimersAsync();
  return running;
}

describe('runIndexUpdates: the index updated INDEX_UPDATES_PER_MINUTE times in one scheduled run', () => {
  it('updates at once, then at each later slot of the minute, by lookup only', async () => {
    const summary = await run(3, 600_000);
    expect(calls).toEqual([
      { refreshOnly: false, at: 0 },
      { refreshOnly: true, at: 20_000 },
      { refreshOnly: true, at: 40_000 },
    ]);
    expect(summary).toMatchObject({ kind: 'refresh', lookups: 3, updates: 3 });
  });

  it('updates once with INDEX_UPDATES_PER_MINUTE 1', async () => {
    expect(await run(1)).toMatchObject({ updates: 1 });
    expect(calls).toHaveLength(1);
  });

  it('leaves the later slots to the next run when the first update outlasted its slot (a full list)', async () => {
    update.ms = 30_001;
    expect(await run(2)).toMatchObject({ updates: 1 });
    expect(calls).toHaveLength(1);
  });

  it('starts no update that could not be over 15 s before the deadline', async () => {
    expect(await run(2, 44_999)).toMatchObject({ updates: 1 });
    calls.length = 0;
    startedAt = Date.now();
    expect(await run(2, 45_000)).toMatchObject({ updates: 2 });
    expect(calls.map((call) => call.at)).toEqual([0, 30_000]);
  });
});
