import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
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

export function recordIndexRun(run: { listDurationMs: number; activeSessions: number; replacedAgeMs?: number }): void {
  inventoryMetrics.addMetric(INVENTORY_METRICS.indexListDuration, MetricUnit.Milliseconds, run.listDurationMs);
  inventoryMetrics.addMetric(INVENTORY_METRICS.indexActiveSessions, MetricUnit.Count, run.activeSessions);
  // Without a readable previous index there was nothing stale to measure.
  if (run.replacedAgeMs !== undefined && Number.isFinite(run.replacedAgeMs))
    inventoryMetrics.addMetric(INVENTORY_METRICS.indexAge, MetricUnit.Milliseconds, run.replacedAgeMs);
}

export function recordIndexSkipped(): void {
  inventoryMetrics.addMetric(INVENTORY_METRICS.indexRunSkipped, MetricUnit.Count, 1);
}

export function recordExport(run: { durationMs: number; bytes: number; sessions: number }): void {
  inventoryMetrics.addMetric(INVENTORY_METRICS.exportDuration, MetricUnit.Milliseconds, run.durationMs);
  inventoryMetrics.addMetric(INVENTORY_METRICS.exportBytes, MetricUnit.Bytes, run.bytes);
  inventoryMetrics.addMetric(INVENTORY_METRICS.exportSessions, MetricUnit.Count, run.sessions);
}
