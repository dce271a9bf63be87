import { parentPort, workerData } from 'node:worker_threads';
import type { EncoderWorkerData } from './block-encoder-pool.js';
import { type BlockJob, encodeBlock } from './export-block.js';

const { finished, index } = workerData as EncoderWorkerData;

// A worker thread of the export: encodes the blocks it is sent, answering each with its id.
parentPort?.on('message', (job: BlockJob & { id: number }) => {
  try {
    const result = encodeBlock(job);
    // A fresh copy, so the transfer cannot detach memory shared with other buffers.
    const compressed = new Uint8Array(result.compressed);
    parentPort?.postMessage({ id: job.id, result: { ...result, compressed } }, [compressed.buffer]);
  } catch (error) {
    parentPort?.postMessage({ id: job.id, error: error instanceof Error ? error.message : String(error) });
  } finally {
    Atomics.add(finished, index, 1);
  }
});
