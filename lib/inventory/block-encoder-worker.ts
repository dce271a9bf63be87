import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../core/errors.js';
import type { EncoderMessage, EncoderWorkerData } from './block-encoder-pool.js';
import { encodeBlock } from './export-block.js';

const { finished, index } = workerData as EncoderWorkerData;

// A worker thread of the export: encodes the blocks it is sent, answering each with its id.
parentPort?.on('message', (job: EncoderMessage) => {
  if ('stop' in job) {
    // Nothing else keeps the thread alive: it exits on its own, with code 0.
    parentPort?.close();
    return;
  }
  try {
    const result = encodeBlock(job);
    // A fresh copy, so the transfer cannot detach memory shared with other buffers.
    const compressed = new Uint8Array(result.compressed);
    parentPort?.postMessage({ id: job.id, result: { ...result, compressed } }, [compressed.buffer]);
  } catch (error) {
    parentPort?.postMessage({ id: job.id, error: errorMessage(error) });
  } finally {
    Atomics.add(finished, index, 1);
  }
});
