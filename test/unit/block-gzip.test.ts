import { PassThrough } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockGzipWriter } from '../../lib/block-gzip.js';

async function compress(pieces: string[], blockBytes: number, maxInFlight: number): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const writer = new BlockGzipWriter(out, 3, blockBytes, maxInFlight);
  for (const piece of pieces) await writer.write(piece);
  await writer.end();
  return Buffer.concat(chunks);
}

describe('BlockGzipWriter', () => {
  it('writes gzip that reads back as exactly what was written, in order, whatever the block size', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'binary', maxLength: 300 }), { maxLength: 40 }), fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 4 }), async (pieces, blockBytes, maxInFlight) => {
        const compressed = await compress(pieces, blockBytes, maxInFlight);
        expect(gunzipSync(compressed).toString('utf8')).toBe(pieces.join(''));
      }),
      { numRuns: 300 },
    );
  });

  it('makes one gzip member per block', async () => {
    const compressed = await compress(['a'.repeat(10), 'b'.repeat(10), 'c'.repeat(10)], 10, 2);
    const members = [...compressed.entries()].filter(([index, byte]) => byte === 0x1f && compressed[index + 1] === 0x8b && compressed[index + 2] === 0x08).length;
    expect(members).toBe(3);
  });

  it('writes a valid empty gzip file when nothing was written', async () => {
    expect(gunzipSync(await compress([], 100, 2)).toString()).toBe('');
  });
});
