import * as z from 'zod/mini';
import { ValidationError } from '../core/errors.js';
import { issuesMessage } from '../core/zod-issues.js';
import { parseAddress } from '../sessions/ip-address.js';
import type { MatchCriteria } from '../sessions/session-match.js';

/** What a finding says about which sessions to cut, and what to tell the audit trail about it. */
export interface FindingTargets {
  criteria: MatchCriteria[];
  findingId: string;
  findingTitle: string;
  reason: string;
  /** Set when the finding is deliberately not acted on (e.g. below the severity threshold). */
  ignored?: string;
  /** Security Hub findings acted on, which the outcome is written back to. */
  findings?: Array<{ id: string; productArn: string }>;
}

const str = z.optional(z.string());

const guardDutyDetailSchema = z.object({
  id: z.string({ error: 'detail.id must be a string' }),
  accountId: str,
  type: z.string({ error: 'detail.type must be a string' }),
  title: str,
  severity: z.number({ error: 'detail.severity must be a number' }),
  resource: z.optional(
    z.object({
      resourceType: str,
      instanceDetails: z.optional(
        z.object({
          instanceId: str,
          networkInterfaces: z.optional(
            z.array(
              z.object({
                privateIpAddress: z.optional(z.nullable(z.string())),
                privateIpAddresses: z.optional(
                  z.array(z.object({ privateIpAddress: z.optional(z.nullable(z.string())) })),
                ),
              }),
            ),
          ),
        }),
      ),
    }),
  ),
  service: z.optional(
    z.object({
      action: z.optional(z.record(z.string(), z.unknown())),
      resourceRole: str,
      archived: z.optional(z.boolean()),
      additionalInfo: z.optional(z.record(z.string(), z.unknown())),
    }),
  ),
});

const asffFindingSchema = z.object({
  Id: z.string({ error: 'each finding needs an Id' }),
  ProductArn: str,
  Title: str,
  RecordState: str,
  Workflow: z.optional(z.object({ Status: str })),
  Severity: z.optional(z.object({ Label: str })),
  Resources: z.optional(
    z.array(
      z.object({
        Type: str,
        Id: str,
        Details: z.optional(
          z.object({
            AwsEc2Instance: z.optional(
              z.object({
                IpV4Addresses: z.optional(z.array(z.string())),
                IpV6Addresses: z.optional(z.array(z.string())),
              }),
            ),
          }),
        ),
      }),
    ),
  ),
  Network: z.optional(z.object({ SourceIpV4: str, SourceIpV6: str, Direction: str })),
  ProductFields: z.optional(z.record(z.string(), z.unknown())),
});

const securityHubDetailSchema = z.object({
  findings: z
    .array(asffFindingSchema, { error: 'detail.findings must be an array' })
    .check(z.minLength(1, 'detail.findings is empty')),
  actionName: str,
});

function parse<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError(`${what}: ${issuesMessage(parsed.error)}`);
  return parsed.data;
}

/** A finding's addresses are single addresses; one that is not in a standard form is left out, never guessed. */
function unique(addresses: Array<string | null | undefined>): string[] {
  return [
    ...new Set(
      addresses
        .filter((address): address is string => typeof address === 'string' && parseAddress(address) !== undefined)
        .map((a) => a.trim()),
    ),
  ];
}

/** Every remoteIpDetails.ipAddressV4/V6 under service.action, whatever the action type (network, port probe, API call, RDS login…). */
function remoteIps(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) remoteIps(item, found);
  } else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'remoteIpDetails' && typeof value === 'object' && value !== null) {
        const details = value as { ipAddressV4?: unknown; ipAddressV6?: unknown };
        for (const ip of [details.ipAddressV4, details.ipAddressV6]) if (typeof ip === 'string') found.push(ip);
      } else remoteIps(value, found);
    }
  }
  return found;
}

const intoDevices = (hosts: string[]): MatchCriteria[] => hosts.map((device) => ({ device }));
const fromOrigins = (origins: string[]): MatchCriteria[] => origins.map((origin_ip) => ({ origin_ip }));

/** GuardDuty's CreateSampleFindings marks its findings `sample`, as a boolean or inside additionalInfo's JSON `value`. */
function isSample(additionalInfo: Record<string, unknown> | undefined): boolean {
  if (additionalInfo?.sample === true) return true;
  if (typeof additionalInfo?.value !== 'string') return false;
  try {
    return (JSON.parse(additionalInfo.value) as { sample?: unknown }).sample === true;
  } catch {
    return false;
  }
}

export interface GuardDutyRules {
  minSeverity: number;
  /** Accounts whose findings count; empty: any (a delegated administrator receives its members' findings). */
  accounts: Set<string>;
}

/** Why a GuardDuty finding is not to be acted on, if it is not. */
function guardDutyIgnored(finding: z.output<typeof guardDutyDetailSchema>, rules: GuardDutyRules): string | undefined {
  if (isSample(finding.service?.additionalInfo)) return 'it is a sample finding (CreateSampleFindings)';
  if (finding.service?.archived === true) return 'it is archived';
  if (rules.accounts.size > 0 && !rules.accounts.has(finding.accountId ?? '')) {
    return `account ${finding.accountId ?? '(none)'} is not in GUARDDUTY_ACCOUNTS`;
  }
  if (finding.severity < rules.minSeverity)
    return `severity ${finding.severity} is below the threshold ${rules.minSeverity}`;
  return undefined;
}

/**
 * A GuardDuty finding, by the instance's role in it. TARGET (it is attacked: brute force, port
 * probe): the sessions FROM the remote addresses, never those into the victim. ACTOR (it acts
 * maliciously: mining, a backdoor, attacking others): the sessions INTO the instance (its private
 * IPs as the session's device host), not those from the addresses it attacked. Without a role:
 * both.
 */
export function guardDutyTargets(detail: unknown, rules: GuardDutyRules): FindingTargets {
  const finding = parse(guardDutyDetailSchema, detail, 'GuardDuty finding');
  const interfaces = finding.resource?.instanceDetails?.networkInterfaces ?? [];
  const role = finding.service?.resourceRole?.toUpperCase();
  const devices =
    role === 'TARGET'
      ? []
      : unique(
          interfaces.flatMap((eni) => [
            eni.privateIpAddress,
            ...(eni.privateIpAddresses ?? []).map((entry) => entry.privateIpAddress),
          ]),
        );
  const origins = role === 'ACTOR' ? [] : unique(remoteIps(finding.service?.action ?? {}));
  const title = finding.title ?? finding.type;
  const ignored = guardDutyIgnored(finding, rules);
  return {
    criteria: [...intoDevices(devices), ...fromOrigins(origins)],
    findingId: finding.id,
    findingTitle: title,
    reason: `GuardDuty finding ${finding.type} (severity ${finding.severity}, resource role ${role ?? 'not given'}): ${title}`,
    ...(ignored ? { ignored } : {}),
  };
}

export interface SecurityHubRules {
  /** Severity labels imported findings must have. */
  labels: Set<string>;
  /** Product ARNs findings must come from, `*` matching any run of characters. */
  products: string[];
}

function productAllowed(productArn: string | undefined, products: string[]): boolean {
  return products.some((pattern) => {
    const expression = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'));
    return new RegExp(`^${expression.join('.*')}$`).test(productArn ?? '');
  });
}

/**
 * Why an imported finding is not to be acted on, if it is not. EventBridge matches a pattern on an
 * array of objects field by field across all its elements, so the rule cannot vouch for each finding.
 */
function importedFindingIgnored(
  finding: z.output<typeof asffFindingSchema>,
  rules: SecurityHubRules,
): string | undefined {
  if (!productAllowed(finding.ProductArn, rules.products)) {
    return `product ${finding.ProductArn ?? '(none)'} is not in SECURITYHUB_PRODUCTS`;
  }
  const label = (finding.Severity?.Label ?? '').toUpperCase();
  if (!rules.labels.has(label)) return `severity ${label || '(none)'} is not ${[...rules.labels].join(' or ')}`;
  if ((finding.RecordState ?? 'ACTIVE').toUpperCase() !== 'ACTIVE') return `record state is ${finding.RecordState}`;
  const workflow = (finding.Workflow?.Status ?? 'NEW').toUpperCase();
  if (workflow === 'SUPPRESSED' || workflow === 'RESOLVED') return `workflow status is ${workflow}`;
  return undefined;
}

/**
 * The resource's role in an ASFF finding, as GuardDuty's: its own field when GuardDuty sent it,
 * else the traffic's direction (IN: the resource was reached, a target; OUT: it reached out).
 */
function resourceRole(finding: z.output<typeof asffFindingSchema>): string | undefined {
  const role = finding.ProductFields?.['aws/guardduty/service/resourceRole'];
  if (typeof role === 'string') return role.toUpperCase();
  const direction = finding.Network?.Direction?.toUpperCase();
  return direction === 'IN' ? 'TARGET' : direction === 'OUT' ? 'ACTOR' : undefined;
}

/**
 * Security Hub ASFF findings: EC2 instances' IPv4/IPv6 addresses as device hosts, and
 * Network.SourceIpV4/V6 as origin_ip, by the resource's role as for GuardDuty. Imported findings
 * are each checked again here (product, label, record state, workflow); a custom action is an
 * analyst's explicit choice and counts whatever the finding says (`rules` undefined).
 */
export function securityHubTargets(detail: unknown, rules: SecurityHubRules | undefined): FindingTargets {
  const { findings, actionName } = parse(securityHubDetailSchema, detail, 'Security Hub event');
  const verdicts = findings.map((finding) => ({ finding, ignored: rules && importedFindingIgnored(finding, rules) }));
  const relevant = verdicts.flatMap(({ finding, ignored }) => (ignored ? [] : [finding]));
  const devices = unique(
    relevant.flatMap((finding) =>
      resourceRole(finding) === 'TARGET'
        ? []
        : (finding.Resources ?? []).flatMap((resource) => [
            ...(resource.Details?.AwsEc2Instance?.IpV4Addresses ?? []),
            ...(resource.Details?.AwsEc2Instance?.IpV6Addresses ?? []),
          ]),
    ),
  );
  const origins = unique(
    relevant.flatMap((finding) =>
      resourceRole(finding) === 'ACTOR' ? [] : [finding.Network?.SourceIpV4, finding.Network?.SourceIpV6],
    ),
  );
  const first = findings[0];
  const title = findings.length === 1 ? (first?.Title ?? first?.Id ?? '') : `${findings.length} findings`;
  const via = actionName ? ` via custom action "${actionName}"` : '';
  const left = verdicts.filter(({ ignored }) => ignored).map(({ finding, ignored }) => `${finding.Id}: ${ignored}`);
  const leftOut =
    left.length > 0 && relevant.length > 0
      ? ` (${left.length} of ${findings.length} findings left out: ${left.join('; ')})`
      : '';
  return {
    criteria: [...intoDevices(devices), ...fromOrigins(origins)],
    findingId: findings.map((finding) => finding.Id).join(', '),
    findingTitle: title,
    reason: `Security Hub${via}: ${title}${leftOut}`,
    findings: relevant.flatMap((finding) =>
      finding.ProductArn ? [{ id: finding.Id, productArn: finding.ProductArn }] : [],
    ),
    ...(relevant.length === 0 ? { ignored: `no finding to act on: ${left.join('; ')}` } : {}),
  };
}
