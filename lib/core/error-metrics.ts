import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { observabilitySettings } from './settings.js';

/** The metric every error is counted under, one series per error code (dimension `code`). */
export const ERRORS_METRIC = 'Errors';
export const CODE_DIMENSION = 'code';

const { serviceName, metricsNamespace } = observabilitySettings();
const metrics = new Metrics({ namespace: metricsNamespace, serviceName });

/**
 * Counts errors by their code (pam_unauthorized, configuration_error, secrets_unavailable…), so
 * that an alarm can tell expired PAM credentials or an unreadable secret from a PAM Core that is down.
 */
export function countErrorCodes(codes: readonly string[]): void {
  const counts = new Map<string, number>();
  for (const code of codes) counts.set(code, (counts.get(code) ?? 0) + 1);
  for (const [code, count] of counts) {
    const metric = metrics.singleMetric();
    metric.addDimension(CODE_DIMENSION, code);
    metric.addMetric(ERRORS_METRIC, MetricUnit.Count, count);
  }
}
