import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type BlockJob, type EncodedBlock, encodeBlock } from './export-block.js';

interface Waiting {
  resolve: (block: EncodedBlock) => void;
  reject: (error: Error) => void;
}

type WorkerMessage = { id: number; result: EncodedBlock } | { id: number; error: string };

/** A job, or the word to exit once the jobs before it are done. */
export type EncoderMessage = (BlockJob & { id: number }) | { stop: true };

/** What a worker is started with: where to count the jobs it has finished. */
export interface EncoderWorkerData {
  finished: Int32Array;
  index: number;
}

/** Jobs queued per worker: enough that it never waits for the next one. */
const QUEUED_PER_WORKER = 2;

/**
 * Parsing, serialising and compressing are the export's heavy part: they run on these threads,
 * and on the calling thread whenever every worker already has its queue full ("caller runs"), so
 * the caller's spare time is used without the memory another worker would take.
 */
export class BlockEncoderPool {
  private readonly workers: Worker[];
  private readonly exited: Array<Promise<unknown>>;
  private readonly waiting = new Map<number, Waiting>();
  /**
   * Jobs each worker has finished, counted by the worker itself in shared memory: its answer only
   * arrives when this thread next returns to the event loop, which a busy caller may not do for a while.
   */
  private readonly finished: Int32Array;
  private readonly sent: number[];
  private nextId = 0;
  /** Jobs this thread encoded itself because every worker was busy. */
  encodedByCaller = 0;

  // One thread is left to this one, which reads the list, finds the records and feeds the upload.
  constructor(workerUrl: URL, size = Math.max(1, Math.min(4, availableParallelism() - 1))) {
    this.finished = new Int32Array(new SharedArrayBuffer(size * Int32Array.BYTES_PER_ELEMENT));
    this.sent = Array.from({ length: size }, () => 0);
    this.workers = Array.from({ length: size }, (_, index) => {
      const workerData: EncoderWorkerData = { finished: this.finished, index };
      // Each worker holds a couple of blocks at a time; a small heap keeps the export's memory flat.
      const worker = new Worker(workerUrl, {
        workerData,
        resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 },
      });
      worker.on('message', (message: WorkerMessage) => this.settle(message));
      worker.on('error', (error) => this.failAll(error));
      worker.on('exit', (code) => {
        if (code !== 0) this.failAll(new Error(`an export worker stopped with code ${code}`));
      });
      return worker;
    });
    this.exited = this.workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
  }

  /**
   * Hands the job to the least busy worker (its bytes are transferred, not copied), or encodes it
   * right here when every worker's queue is full. Either way the answer is a promise.
   */
  encode(job: BlockJob): Promise<EncodedBlock> {
    let index = 0;
    for (let candidate = 1; candidate < this.workers.length; candidate += 1) {
      if (this.queued(candidate) < this.queued(index)) index = candidate;
    }
    const worker = this.workers[index];
    if (!worker || this.queued(index) >= QUEUED_PER_WORKER) {
      this.encodedByCaller += 1;
      return new Promise((resolve) => resolve(encodeBlock(job)));
    }
    const id = this.nextId++;
    this.sent[index] = (this.sent[index] ?? 0) + 1;
    return new Promise<EncodedBlock>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const message: EncoderMessage = { ...job, id };
      worker.postMessage(message, [job.bytes.buffer as ArrayBuffer, job.ranges.buffer as ArrayBuffer]);
    });
  }

  /**
   * Each worker exits after the jobs it was handed. Never terminate(): a worker stopped in the middle
   * of gzipSync can leave a zlib handle that Node 20 aborts the whole process on ("close before init").
   */
  async close(): Promise<void> {
    const stop: EncoderMessage = { stop: true };
    for (const worker of this.workers) worker.postMessage(stop);
    await Promise.all(this.exited);
  }

  private queued(index: number): number {
    return (this.sent[index] ?? 0) - Atomics.load(this.finished, index);
  }

  private settle(message: WorkerMessage): void {
    const waiting = this.waiting.get(message.id);
    this.waiting.delete(message.id);
    if ('error' in message) waiting?.reject(new Error(message.error));
    else waiting?.resolve({ ...message.result, compressed: Buffer.from(message.result.compressed.buffer) });
  }

  private failAll(error: Error): void {
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }
}
