import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger } from '../core/logger.js';
import { observabilitySettings } from '../core/settings.js';

/**
 * What index-sessions and the export emit (EMF in the logs), each with the one dimension `service`.
 * The dashboard names them; test/infra/dashboard.test.ts checks it names nothing else.
 */
export const INVENTORY_METRICS = {
  /** ms the index's list took. */
  indexListDuration: 'IndexListDuration',
  /** ms: how old the index being replaced was when the new one was written, the staleness readers saw. */
  indexAge: 'IndexAge',
  indexActiveSessions: 'IndexActiveSessions',
  /** A tick that did not list: the last list was too recent, or one is still running. */
  indexRunSkipped: 'IndexRunSkipped',
  /** One-session lookups a refresh of the index sent to PAM (one run a minute: lookups per minute). */
  indexLookups: 'IndexLookups',
  /** The full list was read because lookups could not answer (no numeric ids, no index, PAM refused the route). */
  fullListFallback: 'FullListFallback',
  exportDuration: 'ExportDuration',
  /** Compressed bytes written to S3. */
  exportBytes: 'ExportBytes',
  exportSessions: 'ExportSessions',
} as const;

const { serviceName, metricsNamespace } = observabilitySettings();

/**
 * One per container, flushed by the handlers' logMetrics middleware. Kept out of everything the
 * export's worker threads import: their bundle stays free of Powertools.
 */
export const inventoryMetrics = new Metrics({ namespace: metricsNamespace, serviceName });

/** A new index written; listDurationMs only when it was made from a full list. */
export function recordIndexRun(run: { listDurationMs?: number; activeSessions: number; replacedAgeMs?: number }): void {
  if (run.listDurationMs !== undefined)
    inventoryMetrics.addMetric(INVENTORY_METRICS.indexListDuration, MetricUnit.Milliseconds, run.listDurationMs);
  inventoryMetrics.addMetric(INVENTORY_METRICS.indexActiveSessions, MetricUnit.Count, run.activeSessions);
  // Without a readable previous index there was nothing stale to measure.
  if (run.replacedAgeMs !== undefined && Number.isFinite(run.replacedAgeMs))
    inventoryMetrics.addMetric(INVENTORY_METRICS.indexAge, MetricUnit.Milliseconds, run.replacedAgeMs);
}

export function recordIndexSkipped(): void {
  inventoryMetrics.addMetric(INVENTORY_METRICS.indexRunSkipped, MetricUnit.Count, 1);
}

export function recordIndexLookups(lookups: number): void {
  inventoryMetrics.addMetric(INVENTORY_METRICS.indexLookups, MetricUnit.Count, lookups);
}

/**
 * Counted at once (its own EMF line), from any function: the drop publishes no stored inventory
 * metrics. The reason goes to the log, not to a dimension.
 */
export function recordFullListFallback(where: string, reason: string): void {
  logger.info('Reading the full session list: lookups cannot answer', { where, reason });
  inventoryMetrics.singleMetric().addMetric(INVENTORY_METRICS.fullListFallback, MetricUnit.Count, 1);
}

export function recordExport(run: { durationMs: number; bytes: number; sessions: number }): void {
  inventoryMetrics.addMetric(INVENTORY_METRICS.exportDuration, MetricUnit.Milliseconds, run.durationMs);
  inventoryMetrics.addMetric(INVENTORY_METRICS.exportBytes, MetricUnit.Bytes, run.bytes);
  inventoryMetrics.addMetric(INVENTORY_METRICS.exportSessions, MetricUnit.Count, run.sessions);
}
