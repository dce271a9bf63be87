import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { highestNumericId, walkIdsAbove } from '../../lib/pam/session-tail.js';

/** What the stop rule must find: each id whose distance from the previous one found leaves fewer than `misses` missing between. */
function expectedFinds(start: number, present: number[], misses: number): number[] {
  const finds: number[] = [];
  let previous = start;
  for (const id of [...present].sort((a, b) => a - b)) {
    if (id <= start) continue;
    if (id - previous - 1 >= misses) break;
    finds.push(id);
    previous = id;
  }
  return finds;
}

/** A PAM whose ids above `start` are `present`, answering after a random pause, that counts what is in flight. */
function fakeIds(present: Set<number>, delays: number[]) {
  const state = { inFlight: 0, maxInFlight: 0, asked: [] as number[] };
  const probe = async (id: number) => {
    state.asked.push(id);
    state.inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    await new Promise((resolve) => setTimeout(resolve, delays[id % delays.length] ?? 0));
    state.inFlight -= 1;
    return present.has(id) ? `session ${id}` : undefined;
  };
  return { probe, state };
}

describe('walkIdsAbove', () => {
  it('finds every id before the first run of misses, asks none beyond it, and keeps to its concurrency', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1_000 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 7 }),
        async (start, offsets, misses, concurrency, delays) => {
          const present = new Set(offsets.map((offset) => start + offset));
          const { probe, state } = fakeIds(present, delays);
          const walk = await walkIdsAbove(start, probe, { concurrency, stopAfterMisses: misses });
          const finds = expectedFinds(start, [...present], misses);
          const highest = finds.at(-1) ?? start;
          expect(walk.found.map(({ id }) => id)).toEqual(finds);
          expect(walk.highest).toBe(highest);
          expect(walk.complete).toBe(true);
          // Exactly the ids from start + 1 to the last miss of the ending run, each once.
          expect([...state.asked].sort((a, b) => a - b)).toEqual(
            Array.from({ length: highest + misses - start }, (_, index) => start + 1 + index),
          );
          expect(walk.probes).toBe(highest + misses - start);
          expect(state.maxInFlight).toBeLessThanOrEqual(concurrency);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('tolerates gaps shorter than the stop rule and stops at the first one as long', async () => {
    const { probe } = fakeIds(new Set([101, 103, 104, 108, 115]), [0]);
    const walk = await walkIdsAbove(100, probe, { concurrency: 4, stopAfterMisses: 4 });
    expect(walk.found.map(({ id }) => id)).toEqual([101, 103, 104, 108]);
    expect(walk.probes).toBe(12);
    const longer = await walkIdsAbove(100, fakeIds(new Set([101, 103, 104, 108, 115]), [0]).probe, {
      concurrency: 4,
      stopAfterMisses: 7,
    });
    expect(longer.found.map(({ id }) => id)).toEqual([101, 103, 104, 108, 115]);
  });

  it('stops early when told what was sought is found, and within its budget, saying it is incomplete', async () => {
    const present = new Set(Array.from({ length: 50 }, (_, index) => 11 + index));
    const early = await walkIdsAbove(10, fakeIds(present, [1]).probe, { concurrency: 2, stopAfterMisses: 5 }, (id) =>
      id === 14 ? true : undefined,
    );
    expect(early.complete).toBe(false);
    expect(early.found.map(({ id }) => id)).toContain(14);
    expect(early.probes).toBeLessThanOrEqual(6);

    const budget = await walkIdsAbove(10, fakeIds(present, [0]).probe, {
      concurrency: 3,
      stopAfterMisses: 5,
      maxProbes: 20,
    });
    expect(budget).toMatchObject({ complete: false, probes: 20, highest: 30 });
  });

  it('throws the first failure once the probes in flight are over, and asks nothing more', async () => {
    let asked = 0;
    let settledAfterFailure = 0;
    const failure = new Error('PAM refused');
    const probe = async (id: number) => {
      asked += 1;
      if (id === 3) throw failure;
      await new Promise((resolve) => setTimeout(resolve, 5));
      settledAfterFailure += 1;
      return `session ${id}`;
    };
    await expect(walkIdsAbove(0, probe, { concurrency: 4, stopAfterMisses: 5 })).rejects.toBe(failure);
    expect(asked).toBe(4);
    expect(settledAfterFailure).toBe(3);
  });
});

describe('highestNumericId', () => {
  it('takes the highest numeric id, as a number, ignoring what is not one', () => {
    expect(highestNumericId(['9', '10', null, 'abc', '2'])).toBe(10);
    expect(highestNumericId([null, 'f3a9'])).toBeNull();
  });
});
