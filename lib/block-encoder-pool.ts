import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BlockJob, EncodedBlock } from './export-block.js';

interface Waiting {
  resolve: (block: EncodedBlock) => void;
  reject: (error: Error) => void;
}

type Answer = { id: number; result: EncodedBlock } | { id: number; error: string };

/** Parsing, serialising and compressing are the export's heavy part: they run on these threads. */
export class BlockEncoderPool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;

  // One thread is left to this one, which reads the list, finds the records and feeds the upload.
  constructor(workerUrl: URL, size = Math.max(1, Math.min(4, availableParallelism() - 1))) {
    this.workers = Array.from({ length: size }, () => {
      // Each worker holds a couple of blocks at a time; a small heap keeps the export's memory flat.
      const worker = new Worker(workerUrl, { resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 16 } });
      worker.on('message', (answer: Answer) => this.settle(answer));
      worker.on('error', (error) => this.failAll(error));
      worker.on('exit', (code) => {
        if (code !== 0) this.failAll(new Error(`an export worker stopped with code ${code}`));
      });
      return worker;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** Hands the job to the next worker (round robin); its bytes are transferred, not copied. */
  encode(job: BlockJob): Promise<EncodedBlock> {
    const id = this.nextId++;
    const worker = this.workers[id % this.workers.length];
    return new Promise<EncodedBlock>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker?.postMessage({ ...job, id }, [job.bytes.buffer as ArrayBuffer, job.ranges.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private settle(answer: Answer): void {
    const waiting = this.waiting.get(answer.id);
    this.waiting.delete(answer.id);
    if ('error' in answer) waiting?.reject(new Error(answer.error));
    else waiting?.resolve({ ...answer.result, compressed: Buffer.from(answer.result.compressed.buffer) });
  }

  private failAll(error: Error): void {
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }
}
