import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** CloudWatch metrics (EMF in the logs): one count per outcome, for dashboards and alarms. */
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'PamSessionResponder',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pam-session-responder',
});

export function countOutcomes(outcomes: Array<{ outcome: string }>): void {
  const counts = new Map<string, number>();
  for (const { outcome } of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  for (const [outcome, count] of counts) metrics.addMetric(outcome, MetricUnit.Count, count);
}
