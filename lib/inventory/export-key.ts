export type ExportFormat = 'jsonl' | 'csv';

export const EXPORT_PREFIX = 'remote-sessions/';

/** `remote-sessions/dt=YYYY-MM-DD/<ISO timestamp>.jsonl.gz`: a Hive-style partition Athena can prune by date. */
export function exportKey(at: Date, format: ExportFormat): string {
  const iso = at.toISOString();
  return `${EXPORT_PREFIX}dt=${iso.slice(0, 10)}/${iso}.${format}.gz`;
}

/** The export time encoded in a key made by exportKey, or undefined for any other key. */
export function exportTimeOf(key: string): string | undefined {
  return /^remote-sessions\/dt=\d{4}-\d{2}-\d{2}\/(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\.(?:jsonl|csv)\.gz$/.exec(
    key,
  )?.[1];
}
