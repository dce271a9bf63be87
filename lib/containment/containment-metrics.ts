import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { observabilitySettings } from '../core/settings.js';
import type { ContainmentOutcome, ContainmentOutcomeKind } from './containment-outcome.js';

const { serviceName, metricsNamespace } = observabilitySettings();

/** The metric each outcome counts in; the dashboard and the alarms name these. */
export const CONTAINMENT_METRICS: Partial<Record<ContainmentOutcomeKind, string>> = {
  rotated: 'CredentialRotated',
  quarantined: 'CredentialQuarantined',
  already_quarantined: 'CredentialQuarantined',
  reactivated: 'CredentialReactivated',
  failed: 'CredentialContainmentFailed',
  blocked: 'CredentialContainmentBlocked',
  not_contained: 'CredentialNotContained',
};
export const TIME_TO_CONTAIN = 'TimeToContain';

const metrics = new Metrics({ namespace: metricsNamespace, serviceName });

/** A count per action's outcome, and TimeToContain (ms from the request to PAM's answer) per credential contained. */
export function publishContainmentMetrics(outcomes: ContainmentOutcome[]): void {
  const counts = new Map<string, number>();
  for (const { outcome } of outcomes) {
    const name = CONTAINMENT_METRICS[outcome];
    if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  if (counts.size === 0) return;
  for (const [name, count] of counts) metrics.addMetric(name, MetricUnit.Count, count);
  for (const outcome of outcomes) {
    if (outcome.outcome === 'rotated' || outcome.outcome === 'quarantined')
      metrics.addMetric(TIME_TO_CONTAIN, MetricUnit.Milliseconds, outcome.contained_age_ms);
  }
  metrics.publishStoredMetrics();
}
