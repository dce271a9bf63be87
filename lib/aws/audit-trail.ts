import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import pLimit from 'p-limit';
import pRetry from 'p-retry';
import { errorMessage } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { auditSettings } from '../core/settings.js';
import { isTransientAwsError } from './aws-errors.js';
import { putEvents } from './put-events.js';

const AUDIT_SOURCE = 'pam.session-responder';
/** PutEvents takes at most 10 entries a call, and 256 KB of them. */
const BATCH_SIZE = 10;
const MAX_REQUEST_BYTES = 256 * 1024;

/** An entry's size as PutEvents counts it (its source, detail-type, detail and resources; the time is fixed). */
export function entrySize(entry: PutEventsRequestEntry): number {
  const text = [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])];
  return 14 + text.reduce((sum, part) => sum + Buffer.byteLength(part ?? ''), 0);
}
const ATTEMPTS = 4;
const CALLS_IN_FLIGHT = 4;

export interface AuditEvent {
  detailType: string;
  detail: Record<string, unknown>;
}

export interface AuditResult {
  published: number;
  /** Entries EventBridge still refused after every retry. */
  failed: number;
}

class EntriesRefused extends Error {
  constructor(
    readonly remaining: PutEventsRequestEntry[],
    readonly errorCodes: string[],
  ) {
    super(`EventBridge refused ${remaining.length} audit entries (${[...new Set(errorCodes)].join(', ')})`);
  }
}

/** Sends one batch, retrying only the entries PutEvents reports as failed. */
async function sendBatch(entries: PutEventsRequestEntry[]): Promise<number> {
  let pending = entries;
  try {
    await pRetry(
      async () => {
        const response = await putEvents(pending);
        if (!response.FailedEntryCount) return;
        const results = response.Entries ?? [];
        const refused = pending.filter((_, index) => results[index]?.ErrorCode !== undefined);
        const codes = results.flatMap((result) => (result.ErrorCode ? [result.ErrorCode] : []));
        pending = refused.length > 0 ? refused : pending;
        throw new EntriesRefused(pending, codes);
      },
      {
        retries: ATTEMPTS - 1,
        minTimeout: 100,
        factor: 2,
        maxTimeout: 2_000,
        randomize: true,
        // A refusal that will not change (access denied, a malformed call) is not sent again; throttling and 5xx are.
        shouldRetry: ({ error }) => error instanceof EntriesRefused || isTransientAwsError(error),
      },
    );
    return 0;
  } catch (error) {
    logger.error('Audit events could not be published', {
      failed: pending.length,
      reason: errorMessage(error),
    });
    return pending.length;
  }
}

/** Publishes audit events on AUDIT_EVENT_BUS (the default bus unless set), batched. */
export async function publishAuditEvents(events: AuditEvent[]): Promise<AuditResult> {
  const bus = auditSettings().eventBus;
  const entries: PutEventsRequestEntry[] = events.map((event) => ({
    Source: AUDIT_SOURCE,
    DetailType: event.detailType,
    Detail: JSON.stringify(event.detail),
    EventBusName: bus,
  }));
  const batches: PutEventsRequestEntry[][] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    const batch = batches.at(-1);
    if (!batch || batch.length >= BATCH_SIZE || bytes + size > MAX_REQUEST_BYTES) {
      batches.push([entry]);
      bytes = size;
    } else {
      batch.push(entry);
      bytes += size;
    }
  }
  // A few calls at a time: a broad request must not fire hundreds of PutEvents calls at once.
  const limit = pLimit(CALLS_IN_FLIGHT);
  const failed = (await Promise.all(batches.map((batch) => limit(() => sendBatch(batch))))).reduce(
    (sum, count) => sum + count,
    0,
  );
  return { published: entries.length - failed, failed };
}
