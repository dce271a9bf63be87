import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { BlockEncoderPool } from '../../lib/inventory/block-encoder-pool.js';
import { type BlockJob, encodeBlock } from '../../lib/inventory/export-block.js';
import { JsonArrayStreamParser } from '../../lib/sessions/json-array-stream.js';

// The worker runs from the file the build puts beside the export handler.
const workerUrl = new URL('../../dist/export/block-encoder-worker.mjs', import.meta.url);

/** Jobs as the export makes them: blocks of raw list elements, each with its own sessions. */
function jobs(count: number, sessionsPerJob: number): BlockJob[] {
  const sessions = generateSessions(count * sessionsPerJob);
  return Array.from({ length: count }, (_, index) => {
    const body = JSON.stringify({
      remote_sessions: sessions.slice(index * sessionsPerJob, (index + 1) * sessionsPerJob),
    });
    return {
      ...new JsonArrayStreamParser('remote_sessions').push(Buffer.from(body)),
      format: 'jsonl' as const,
      level: 1,
      header: false,
    };
  });
}

const copy = (job: BlockJob): BlockJob => ({ ...job, bytes: job.bytes.slice(), ranges: job.ranges.slice() });

let pool: BlockEncoderPool | undefined;
afterEach(async () => {
  await pool?.close();
});

describe('BlockEncoderPool', () => {
  it('encodes on the calling thread what its busy workers cannot take, with the same result as the workers', async () => {
    pool = new BlockEncoderPool(workerUrl, 1);
    const all = jobs(8, 400);
    const expected = all.map((job) => gunzipSync(encodeBlock(copy(job)).compressed).toString());
    // Handed over in one go, as a list arriving faster than one worker encodes it.
    const encoded = await Promise.all(all.map((job) => pool?.encode(job)));
    expect(encoded.map((block) => gunzipSync(block?.compressed ?? Buffer.alloc(0)).toString())).toEqual(expected);
    expect(encoded.map((block) => block?.total)).toEqual(all.map(() => 400));
    expect(pool.encodedByCaller).toBeGreaterThan(0);
    expect(pool.encodedByCaller).toBeLessThan(all.length);
  });

  it('hands work to its workers again once they have finished their queue', async () => {
    pool = new BlockEncoderPool(workerUrl, 1);
    for (const job of jobs(4, 50)) {
      await pool.encode(job);
    }
    expect(pool.encodedByCaller).toBe(0);
  });

  it('lets its workers finish the blocks they were handed when it closes, never stopping one mid-block', async () => {
    pool = new BlockEncoderPool(workerUrl, 1);
    const all = jobs(2, 2_000);
    // Closed at once, as the export does when the list fails while blocks are still being encoded.
    const encoded = all.map((job) => pool?.encode(job));
    await pool.close();
    expect((await Promise.all(encoded)).map((block) => block?.total)).toEqual([2_000, 2_000]);
    expect(pool.encodedByCaller).toBe(0);
  });
});
