import { ConfigurationError } from './errors.js';

/**
 * The one place that reads the environment. Each reader is strict: a value that is set but wrong
 * is a ConfigurationError naming the variable and what it accepts, never a silent default; unset
 * or blank gives the default.
 */

/** Names read while an area's settings are being built, so its cache knows what to watch. */
let reading: Set<string> | undefined;

function raw(name: string): string | undefined {
  reading?.add(name);
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function refuse(name: string, accepted: string, value: string): never {
  throw new ConfigurationError(`${name} must be ${accepted} (it is "${value}")`);
}

interface Range {
  min: number;
  max?: number;
}

function rangeText({ min, max }: Range): string {
  return max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
}

function readNumber(name: string, range: Range, whole: boolean): number | undefined {
  const value = raw(name);
  if (value === undefined) return undefined;
  const number = Number(value);
  const valid = whole ? Number.isInteger(number) : Number.isFinite(number);
  if (!valid || number < range.min || number > (range.max ?? Number.MAX_SAFE_INTEGER)) {
    refuse(name, `${whole ? 'a whole number' : 'a number'} ${rangeText(range)}`, value);
  }
  return number;
}

export function optionalInteger(name: string, range: Range): number | undefined {
  return readNumber(name, range, true);
}

export function integer(name: string, fallback: number, range: Range): number {
  return readNumber(name, range, true) ?? fallback;
}

export function decimal(name: string, fallback: number, range: Range): number {
  return readNumber(name, range, false) ?? fallback;
}

/** A duration in `unit` from the variable, answered in milliseconds. */
export function duration(name: string, unit: 'ms' | 's', fallback: number, range: Range): number {
  return integer(name, fallback, range) * (unit === 's' ? 1_000 : 1);
}

export function boolean(name: string, fallback: boolean): boolean {
  const value = raw(name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  return refuse(name, '"true" or "false"', value);
}

export function choice<T extends string>(name: string, values: readonly T[], fallback: T): T {
  const value = raw(name)?.toLowerCase();
  if (value === undefined) return fallback;
  if ((values as readonly string[]).includes(value)) return value as T;
  return refuse(name, values.map((item) => `"${item}"`).join(' or '), raw(name) ?? '');
}

/**
 * Comma-separated items, trimmed, empty ones left out; `allowed` (compared after `normalise`) refuses others, and
 * so does `form` (a pattern each item must match, and what to call such an item).
 */
export function list(
  name: string,
  fallback: readonly string[],
  options: {
    normalise?: (item: string) => string;
    allowed?: readonly string[];
    form?: { pattern: RegExp; accepted: string };
  } = {},
): string[] {
  const value = raw(name);
  const normalise = options.normalise ?? ((item: string) => item);
  const items = (value === undefined ? fallback : value.split(','))
    .map((item) => normalise(item.trim()))
    .filter((item) => item !== '');
  const unknown = options.allowed ? items.filter((item) => !options.allowed?.includes(item)) : [];
  if (unknown.length > 0) refuse(name, `a comma-separated list of ${options.allowed?.join(', ')}`, value ?? '');
  const { form } = options;
  if (form && items.some((item) => !form.pattern.test(item))) refuse(name, form.accepted, value ?? '');
  return items;
}

export function text(name: string, fallback: string): string {
  return raw(name) ?? fallback;
}

export function optionalText(name: string): string | undefined {
  return raw(name);
}

/** A setting without which the area cannot work; `why` says what to put there. */
export function required(name: string, why: string): string {
  const value = raw(name);
  if (value === undefined) throw new ConfigurationError(`${name} is not set: ${why}`);
  return value;
}

/**
 * Invocations under way (lib/invocation/lambda-handler.ts): while one is, each area compares its variables
 * with the environment once per invocation, not at every use. Lambda never changes them in a container's life;
 * a test changes them between invocations, and a test calling the library outside one is checked at every use.
 */
let open = 0;
let invocation: object | undefined;

/** Starts an invocation; returns what ends it. */
export function invocationStarted(): () => void {
  open += 1;
  invocation = {};
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    open -= 1;
    if (open === 0) invocation = undefined;
  };
}

/**
 * An area's settings, read once and kept while the variables they were read from keep their
 * values (in Lambda, for the container's life). A test that changes a variable gets the new
 * settings, also inside a bundle it cannot reach.
 */
export function settingsArea<T>(read: () => T): () => T {
  let cached: { names: string[]; values: Array<string | undefined>; value: T; checkedIn?: object } | undefined;
  return () => {
    if (cached && invocation !== undefined && cached.checkedIn === invocation) return cached.value;
    if (cached?.names.every((name, index) => process.env[name] === cached?.values[index])) {
      cached.checkedIn = invocation;
      return cached.value;
    }
    const names = new Set<string>();
    const outer = reading;
    reading = names;
    try {
      const value = read();
      cached = { names: [...names], values: [...names].map((name) => process.env[name]), value, checkedIn: invocation };
      return value;
    } finally {
      reading = outer;
    }
  };
}

/** Service name and metrics namespace (Powertools' own variables). */
export const observabilitySettings = settingsArea(() => ({
  serviceName: text('POWERTOOLS_SERVICE_NAME', 'pam-session-responder'),
  metricsNamespace: text('POWERTOOLS_METRICS_NAMESPACE', 'PamSessionResponder'),
}));

/**
 * Whether the Powertools Tracer is loaded: POWERTOOLS_TRACE_ENABLED, the Tracer's own variable, which
 * serverless.yml sets from its tracing param. Unset means off here (the Tracer itself would default to on).
 */
export const tracingSettings = settingsArea(() => ({ enabled: boolean('POWERTOOLS_TRACE_ENABLED', false) }));

/** How the PAM Core is reached: the secret, time limits and retries. */
export const pamSettings = settingsArea(() => ({
  secretId: required('PAM_SECRET_ID', 'name the Secrets Manager secret holding the PAM credentials'),
  secretMaxAgeMs: duration('PAM_SECRET_MAX_AGE_SECONDS', 's', 300, { min: 0 }),
  dropTimeoutMs: duration('PAM_DROP_TIMEOUT_MS', 'ms', 10_000, { min: 1 }),
  listTimeoutMs: duration('PAM_LIST_TIMEOUT_MS', 'ms', 120_000, { min: 1 }),
  lookupTimeoutMs: duration('PAM_LOOKUP_TIMEOUT_MS', 'ms', 5_000, { min: 1 }),
  maxAttempts: integer('PAM_MAX_ATTEMPTS', 3, { min: 1, max: 10 }),
  retryBaseDelayMs: duration('PAM_RETRY_BASE_DELAY_MS', 'ms', 200, { min: 0 }),
  credentialTimeoutMs: duration('PAM_CREDENTIAL_TIMEOUT_MS', 'ms', 10_000, { min: 1 }),
}));

export type PamSettings = ReturnType<typeof pamSettings>;

/** What may be done to the credential a terminated session used (docs/containment.md). */
export const CONTAIN_ACTIONS = ['rotate', 'deactivate'] as const;

export type ContainAction = (typeof CONTAIN_ACTIONS)[number];

/** The actions named, in the one order they may run: rotation first (an inactive credential refuses custody). */
function containActions(items: string[]): ContainAction[] {
  return CONTAIN_ACTIONS.filter((action) => items.includes(action));
}

export const SECURITY_HUB_LABELS = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;

/** The guardrails of a termination and which findings count. */
export const terminationSettings = settingsArea(() => ({
  // As written: they are compared as account names (lib/sessions/account-name.ts), not as text.
  protectedUsers: list('PROTECTED_USERS', []),
  protectedCredentials: list('PROTECTED_CREDENTIALS', []),
  maxSessionsPerEvent: integer('MAX_SESSIONS_PER_EVENT', 10, { min: 1 }),
  dryRun: boolean('DRY_RUN', false),
  // An event older than this is not acted on: the sessions it names may be anyone's by now. The rules and Lambda
  // retry for as long (serverless.yml); Lambda's asynchronous retries last at most 6 hours.
  maxEventAgeMs: integer('MAX_EVENT_AGE_MINUTES', 60, { min: 1, max: 360 }) * 60_000,
  dropConcurrency: integer('DROP_CONCURRENCY', 8, { min: 1 }),
  // Lookups after a DELETE until PAM shows the session ended (the outcome's `confirmed`); 0: never checked.
  endedCheckAttempts: integer('ENDED_CHECK_ATTEMPTS', 3, { min: 0, max: 10 }),
  // The widest origin_ip block a termination request may name: a slip such as /8 would reach far too many.
  minPrefixLengthIpv4: integer('MIN_PREFIX_LENGTH_IPV4', 16, { min: 0, max: 32 }),
  minPrefixLengthIpv6: integer('MIN_PREFIX_LENGTH_IPV6', 48, { min: 0, max: 128 }),
  guardDutyMinSeverity: decimal('GUARDDUTY_MIN_SEVERITY', 7, { min: 0, max: 10 }),
  securityHubLabels: new Set(
    list('SECURITYHUB_SEVERITY_LABELS', ['HIGH', 'CRITICAL'], {
      normalise: (item) => item.toUpperCase(),
      allowed: SECURITY_HUB_LABELS,
    }),
  ),
  // GuardDuty's own product, in every region and partition: other products (Inspector's vulnerabilities, Security
  // Hub's controls, partners…) are opted in per deployment; their findings still act only when their Types say intrusion.
  securityHubProducts: list('SECURITYHUB_PRODUCTS', ['arn:*:securityhub:*::product/aws/guardduty']),
  // Empty: the deployment's own account (read from the invocation's ARN). Private addresses repeat across accounts.
  findingAccounts: new Set(
    list('FINDING_ACCOUNTS', [], {
      form: { pattern: /^\d{12}$/, accepted: 'a comma-separated list of 12-digit AWS account ids' },
    }),
  ),
  // Empty: any VPC. Set: a finding's instance must be in one of these (private addresses repeat across VPCs too).
  deviceVpcs: new Set(
    list('DEVICE_VPCS', [], {
      normalise: (item) => item.toLowerCase(),
      form: { pattern: /^vpc-[0-9a-f]{8,17}$/, accepted: 'a comma-separated list of VPC ids (vpc-…)' },
    }),
  ),
  // What findings do to the credentials of the sessions they terminate: none, rotate, deactivate, or both.
  containOnFindings: containActions(
    list('CONTAIN_ON_FINDINGS', ['none'], {
      normalise: (item) => item.toLowerCase(),
      allowed: ['none', ...CONTAIN_ACTIONS],
    }),
  ),
}));

export type TerminationSettings = ReturnType<typeof terminationSettings>;

/** Asking PAM about sessions one at a time, by numeric id (lib/pam/session-lookup.ts). */
export const lookupSettings = settingsArea(() => ({
  /** Lookups in flight at once, per walk or batch. */
  concurrency: integer('LOOKUP_CONCURRENCY', 4, { min: 1, max: 32 }),
  /** The walk above the highest known id ends after this many "not found" in a row (ids may have gaps). */
  stopAfterMisses: integer('TAIL_STOP_AFTER_MISSES', 5, { min: 1, max: 100 }),
}));

/** How credentials are contained after a termination (docs/containment.md). */
export const containmentSettings = settingsArea(() => ({
  maxCredentialsPerRequest: integer('MAX_CREDENTIALS_PER_REQUEST', 3, { min: 1 }),
  // 0: a quarantined credential is reactivated only by hand. Scheduler's one-time schedules take whole minutes.
  quarantineMinutes: integer('QUARANTINE_MINUTES', 60, { min: 0, max: 525_600 }),
  credentialListMaxAgeMs: duration('CREDENTIAL_LIST_MAX_AGE_SECONDS', 's', 300, { min: 0 }),
  scheduleGroup: text('REACTIVATION_SCHEDULE_GROUP', 'pam-session-responder'),
  scheduleRoleArn: optionalText('REACTIVATION_SCHEDULE_ROLE_ARN'),
  reactivationTargetArn: optionalText('REACTIVATION_TARGET_ARN'),
}));

export type ContainmentSettings = ReturnType<typeof containmentSettings>;

/** Where audit events (and the export's summary) are published, and who hears of a blocked termination. */
export const auditSettings = settingsArea(() => ({
  eventBus: text('AUDIT_EVENT_BUS', 'default'),
  alarmTopicArn: optionalText('ALARM_TOPIC_ARN'),
}));

/** The inventory bucket, read by snapshots and written by the export. */
export const inventoryBucket = settingsArea(() =>
  required('EXPORT_BUCKET', 'name the inventory bucket (the export writes there, snapshots are read from it)'),
);

/**
 * The idempotency table (Powertools Idempotency): each trigger (an event, a finding's version, a
 * direct invocation's key) is handled once; a repeat within the expiry gets the first response.
 */
export const idempotencySettings = settingsArea(() => ({
  table: optionalText('IDEMPOTENCY_TABLE'),
  expiresAfterSeconds: integer('IDEMPOTENCY_EXPIRES_HOURS', 24, { min: 1, max: 24 * 30 }) * 3_600,
}));

/** The active-session index: where it is, and how old it may be and still decide a termination. */
export const indexSettings = settingsArea(() => ({
  bucket: optionalText('EXPORT_BUCKET'),
  maxAgeMs: duration('INDEX_MAX_AGE_SECONDS', 's', 600, { min: 1 }),
  recheckMs: duration('INDEX_RECHECK_SECONDS', 's', 10, { min: 0 }),
}));

/** How index-sessions keeps the index fresh: full lists now and then, lookups in between. */
export const indexerSettings = settingsArea(() => ({
  fullListIntervalMs: integer('INDEX_FULL_LIST_MINUTES', 60, { min: 1 }) * 60_000,
  maxLookupsPerMinute: integer('INDEX_MAX_LOOKUPS_PER_MINUTE', 1_200, { min: 1 }),
  // The schedule's shortest rate is a minute: each run updates the index this often, evenly spaced, so that it is
  // never older than 60 s / N + one update. Updates after the first only refresh by lookup.
  updatesPerMinute: integer('INDEX_UPDATES_PER_MINUTE', 2, { min: 1, max: 6 }),
}));

/** How the export writes. */
export const exportSettings = settingsArea(() => ({
  format: choice('EXPORT_FORMAT', ['jsonl', 'csv'] as const, 'jsonl'),
  gzipLevel: integer('EXPORT_GZIP_LEVEL', 1, { min: 1, max: 9 }),
  // S3 takes parts of 5 MiB at the least; bigger parts mean fewer requests and more memory.
  partSize: integer('EXPORT_PART_SIZE_MIB', 5, { min: 5, max: 64 }) * 1024 * 1024,
  workers: optionalInteger('EXPORT_WORKERS', { min: 1, max: 8 }),
}));

/** The AWS SDK's own variables that decide where and how a request to S3 goes (lib/aws/signed-s3-get.ts decides from them as the SDK does). */
const AWS_SDK_VARIABLES = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_S3',
  'AWS_USE_FIPS_ENDPOINT',
  'AWS_USE_DUALSTACK_ENDPOINT',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
] as const;

export type AwsSdkEnvironment = Partial<Record<(typeof AWS_SDK_VARIABLES)[number], string>>;

/** Those variables as they are now: read each time, as the SDK's credential and endpoint providers do. */
export function awsSdkEnvironment(): AwsSdkEnvironment {
  return Object.fromEntries(
    AWS_SDK_VARIABLES.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])),
  );
}
