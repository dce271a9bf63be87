import { wholeNumberSetting } from './env-number.js';
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
    maxSessionsPerEvent: wholeNumberSetting('MAX_SESSIONS_PER_EVENT', 1) ?? 10,
    dryRun: flag('DRY_RUN'),
    dropConcurrency: wholeNumberSetting('DROP_CONCURRENCY', 1) ?? 8,
    guardDutyMinSeverity: severity,
    securityHubLabels: list(process.env.SECURITYHUB_SEVERITY_LABELS ?? 'HIGH,CRITICAL', (item) => item.toUpperCase()),
  };
}
