import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { observabilitySettings } from './settings.js';

/** The metric every error is counted under, one series per error code (dimension `code`). */
export const ERRORS_METRIC = 'Errors';
export const CODE_DIMENSION = 'code';

const { serviceName, metricsNamespace } = observabilitySettings();
const metrics = new Metrics({ namespace: metricsNamespace, serviceName });

/** Errors already counted: a drop's failure is counted with its outcome, and again thrown to the caller. */
const counted = new WeakSet<object>();

/**
 * Counts errors by their code (pam_unauthorized, configuration_error, secrets_unavailable…), so
 * that an alarm can tell expired PAM credentials or an unreadable secret from a PAM Core that is down.
 * Each error object is counted once, however many layers report it.
 */
export function countErrors(errors: ReadonlyArray<{ readonly code: string }>): void {
  const counts = new Map<string, number>();
  for (const error of errors) {
    if (counted.has(error)) continue;
    counted.add(error);
    counts.set(error.code, (counts.get(error.code) ?? 0) + 1);
  }
  for (const [code, count] of counts) {
    const metric = metrics.singleMetric();
    metric.addDimension(CODE_DIMENSION, code);
    metric.addMetric(ERRORS_METRIC, MetricUnit.Count, count);
  }
}
