import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

/**
 * Gzip that keeps up with a busy main thread: text is gathered into blocks, each block is
 * compressed whole in libuv's thread pool (several at once) while the caller goes on, and the
 * compressed blocks are written out in order. Each block is a complete gzip member; a file of
 * concatenated members is valid gzip (RFC 1952) and reads back as one stream (gunzip, Java's
 * GZIPInputStream, Athena). zlib's streaming API instead hands work to the pool in small steps
 * that wait for the main thread, so the two end up taking turns.
 */
export class BlockGzipWriter {
  private pending: string[] = [];
  private pendingBytes = 0;
  private readonly inFlight: Array<Promise<Buffer>> = [];
  private blocks = 0;

  constructor(
    private readonly out: Writable,
    private readonly level: number,
    private readonly blockBytes = 4 * 1024 * 1024,
    private readonly maxInFlight = 3,
  ) {}

  async write(text: string): Promise<void> {
    if (text === '') return;
    this.pending.push(text);
    this.pendingBytes += text.length;
    if (this.pendingBytes >= this.blockBytes) await this.compressPending();
  }

  /** Compresses what is left, writes every block out in order, and ends the output. */
  async end(): Promise<void> {
    // Even with nothing written, the output is a valid (empty) gzip file.
    if (this.blocks === 0) this.pending.push('');
    await this.compressPending();
    while (this.inFlight.length > 0) await this.writeOldest();
    this.out.end();
  }

  private async compressPending(): Promise<void> {
    if (this.pending.length === 0) return;
    const block = Buffer.from(this.pending.join(''));
    this.blocks += 1;
    this.pending = [];
    this.pendingBytes = 0;
    const compressed = gzipAsync(block, { level: this.level });
    // Settled later in order; a failure surfaces when this block's turn comes.
    compressed.catch(() => undefined);
    this.inFlight.push(compressed);
    while (this.inFlight.length >= this.maxInFlight) await this.writeOldest();
  }

  private async writeOldest(): Promise<void> {
    const compressed = await this.inFlight.shift();
    if (compressed && !this.out.write(compressed)) await once(this.out, 'drain');
  }
}
