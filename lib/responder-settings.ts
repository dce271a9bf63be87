import { ConfigurationError } from './errors.js';

export interface ResponderSettings {
  protectedUsers: Set<string>;
  protectedCredentials: Set<string>;
  maxSessionsPerEvent: number;
  dryRun: boolean;
  dropConcurrency: number;
  guardDutyMinSeverity: number;
  securityHubLabels: Set<string>;
}

function list(value: string | undefined, normalise: (item: string) => string): Set<string> {
  return new Set(
    (value ?? '')
      .split(',')
      .map((item) => normalise(item.trim()))
      .filter((item) => item !== ''),
  );
}

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new ConfigurationError(`${name} must be a whole number of at least 1 (it is "${raw}")`);
  return value;
}

function flag(name: string): boolean {
  const raw = (process.env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigurationError(`${name} must be "true" or "false" (it is "${process.env[name]}")`);
}

/** The deployment's guardrails, read from the environment on every request (cheap, and testable). */
export function responderSettings(): ResponderSettings {
  const severity = Number(process.env.GUARDDUTY_MIN_SEVERITY ?? 7);
  if (!Number.isFinite(severity)) throw new ConfigurationError('GUARDDUTY_MIN_SEVERITY must be a number');
  return {
    protectedUsers: list(process.env.PROTECTED_USERS, (item) => item.toLowerCase()),
    protectedCredentials: list(process.env.PROTECTED_CREDENTIALS, (item) => item.toLowerCase()),
    maxSessionsPerEvent: positiveInteger('MAX_SESSIONS_PER_EVENT', 10),
    dryRun: flag('DRY_RUN'),
    dropConcurrency: positiveInteger('DROP_CONCURRENCY', 8),
    guardDutyMinSeverity: severity,
    securityHubLabels: list(process.env.SECURITYHUB_SEVERITY_LABELS ?? 'HIGH,CRITICAL', (item) => item.toUpperCase()),
  };
}
