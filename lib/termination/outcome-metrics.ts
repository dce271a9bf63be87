import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { countErrors } from '../core/error-metrics.js';
import { observabilitySettings } from '../core/settings.js';
import type { Outcome } from './outcome.js';

const { serviceName, metricsNamespace } = observabilitySettings();

/** Names the dashboard and alarms refer to (test/infra/dashboard.test.ts checks them against these). */
export const TIME_TO_CUT = 'TimeToCut';
export const TRIGGER_DIMENSION = 'trigger';
export const WRITE_BACK_FAILED = 'WriteBackFailed';
export const RECORD_WRITE_FAILED = 'RecordWriteFailed';
/** A terminated session PAM still showed active after every recheck. */
export const TERMINATION_UNCONFIRMED = 'TerminationUnconfirmed';

/** CloudWatch metrics (EMF in the logs), for dashboards and alarms. */
const metrics = new Metrics({ namespace: metricsNamespace, serviceName });

/**
 * One count per outcome kind (terminated, blocked…), published at once; and TimeToCut: for each
 * terminated session, milliseconds from the triggering event (or the request) to PAM's answer to
 * the DELETE, by kind of trigger (guardduty, securityhub, request, http, invoke); TerminationUnconfirmed,
 * terminated sessions PAM still showed active after the DELETE. The errors behind
 * failed outcomes are counted by code. A dry run never counts `failed`: nothing was to be done.
 */
export function publishOutcomeMetrics(
  trigger: string,
  outcomes: Array<Pick<Outcome, 'outcome' | 'event_age_ms' | 'error' | 'confirmed'>>,
  dryRun: boolean,
): void {
  if (outcomes.length === 0) return;
  const counts = new Map<string, number>();
  for (const { outcome } of outcomes) {
    if (dryRun && outcome === 'failed') continue;
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  }
  for (const [outcome, count] of counts) metrics.addMetric(outcome, MetricUnit.Count, count);
  const unconfirmed = outcomes.filter((outcome) => outcome.confirmed === false).length;
  if (unconfirmed > 0) metrics.addMetric(TERMINATION_UNCONFIRMED, MetricUnit.Count, unconfirmed);
  if (counts.size > 0) metrics.publishStoredMetrics();
  countErrors(outcomes.flatMap(({ outcome, error }) => (outcome === 'failed' && error ? [error] : [])));
  for (const outcome of outcomes) {
    if (outcome.outcome !== 'terminated') continue;
    const metric = metrics.singleMetric();
    metric.addDimension(TRIGGER_DIMENSION, trigger);
    metric.addMetric(TIME_TO_CUT, MetricUnit.Milliseconds, outcome.event_age_ms);
  }
}

/** A request refused as invalid (an id that is not one, a malformed match): `rejected`, as an unknown id is. */
export function countRejectedRequest(): void {
  metrics.singleMetric().addMetric('rejected', MetricUnit.Count, 1);
}

/** A Security Hub finding could not be updated with what was done (WriteBackFailed, count). */
export function countWriteBackFailure(): void {
  metrics.singleMetric().addMetric(WRITE_BACK_FAILED, MetricUnit.Count, 1);
}

/** Records of terminations S3 did not take after the SDK's retries (RecordWriteFailed, count). */
export function countRecordWriteFailures(count: number): void {
  metrics.singleMetric().addMetric(RECORD_WRITE_FAILED, MetricUnit.Count, count);
}
