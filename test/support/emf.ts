/** One CloudWatch embedded-metric-format record from the logs: what CloudWatch would turn into metrics. */
export interface EmfRecord {
  namespace: string;
  dimensions: string[][];
  metrics: Array<{ Name: string; Unit: string }>;
  /** The dimensions' and the metrics' values. */
  values: Record<string, unknown>;
}

/** Every EMF record in captured log output (Powertools Metrics writes one JSON line per flush). */
export function emfRecords(text: string): EmfRecord[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{"_aws":'))
    .map((line) => {
      const { _aws, ...values } = JSON.parse(line);
      const [directive] = _aws.CloudWatchMetrics;
      return { namespace: directive.Namespace, dimensions: directive.Dimensions, metrics: directive.Metrics, values };
    });
}
