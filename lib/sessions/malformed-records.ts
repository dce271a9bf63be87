import { logger } from '../core/logger.js';

const MALFORMED_REASONS_LOGGED = 10;

/** Counts the records left out across batches, logging why for the first few only: a broken list may hold millions. */
export class MalformedRecords {
  count = 0;

  /** Adds a batch's reasons; answers the count so far. */
  add(reasons: readonly string[]): number {
    for (const reason of reasons) {
      this.count += 1;
      if (this.count <= MALFORMED_REASONS_LOGGED) logger.warn('Skipped a malformed session record', { reason });
    }
    return this.count;
  }
}
