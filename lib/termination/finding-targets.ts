import type * as z from 'zod/mini';
import { parseAddress } from '../sessions/ip-address.js';
import type { MatchCriteria } from '../sessions/session-match.js';
import { findingKey, guardDutyFindingArn } from './finding-key.js';
import {
  type asffFindingSchema,
  guardDutyDetailSchema,
  parseFinding,
  securityHubDetailSchema,
} from './finding-schemas.js';
import { NOTE_AUTHOR } from './finding-write-back.js';

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
  /**
   * findingKey of each finding acted on, when a finding's version is what is handled once (GuardDuty and
   * imported Security Hub findings; a custom action is an analyst's request of its own, keyed by its event).
   */
  findingKeys?: string[];
}

/** Where findings may act: private addresses repeat across accounts and VPCs. */
export interface FindingScope {
  /** Accounts whose findings act (FINDING_ACCOUNTS, else the deployment's own). */
  accounts: ReadonlySet<string>;
  /** When not empty, a finding's instance must be in one of these VPCs (DEVICE_VPCS). */
  deviceVpcs: ReadonlySet<string>;
}

function accountIgnored(accountId: string | undefined, scope: FindingScope): string | undefined {
  if (accountId !== undefined && scope.accounts.has(accountId)) return undefined;
  const listed = [...scope.accounts].join(', ') || 'none';
  return `account ${accountId ?? '(none)'} is not one whose findings act (${listed}: FINDING_ACCOUNTS, else this deployment's own)`;
}

const inDeviceVpcs = (vpc: string | undefined, scope: FindingScope) =>
  scope.deviceVpcs.size === 0 || (vpc !== undefined && scope.deviceVpcs.has(vpc.toLowerCase()));

/** Why an instance is out of scope, given the VPCs its finding places it in, or nothing. */
function vpcIgnored(instance: string, vpcs: Array<string | undefined>, scope: FindingScope): string | undefined {
  if (scope.deviceVpcs.size === 0 || vpcs.some((vpc) => inDeviceVpcs(vpc, scope))) return undefined;
  const named = [...new Set(vpcs.filter((vpc) => vpc !== undefined))];
  return `instance ${instance} is in ${named.length > 0 ? named.join(', ') : 'no VPC the finding names'}, not in DEVICE_VPCS`;
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
  scope: FindingScope;
}

type GuardDutyFinding = z.output<typeof guardDutyDetailSchema>;

/** Why a GuardDuty finding is not to be acted on, if it is not. */
function guardDutyIgnored(finding: GuardDutyFinding, rules: GuardDutyRules): string | undefined {
  if (isSample(finding.service?.additionalInfo)) return 'it is a sample finding (CreateSampleFindings)';
  if (finding.service?.archived === true) return 'it is archived';
  const account = accountIgnored(finding.accountId, rules.scope);
  if (account) return account;
  if (finding.severity < rules.minSeverity)
    return `severity ${finding.severity} is below the threshold ${rules.minSeverity}`;
  const instance = finding.resource?.instanceDetails;
  if (instance === undefined) return undefined;
  const vpcs = (instance.networkInterfaces ?? []).map((eni) => eni.vpcId);
  return vpcIgnored(instance.instanceId ?? '(no id)', vpcs, rules.scope);
}

/**
 * A GuardDuty finding, by the instance's role in it. TARGET (it is attacked: brute force, port
 * probe): the sessions FROM the remote addresses, never those into the victim. ACTOR (it acts
 * maliciously: mining, a backdoor, attacking others): the sessions INTO the instance (its private
 * IPv4 and its IPv6 addresses as the session's device host, from its interfaces in DEVICE_VPCS when
 * set), not those from the addresses it attacked. Without a role: both.
 */
export function guardDutyTargets(detail: unknown, rules: GuardDutyRules): FindingTargets {
  const finding = parseFinding(guardDutyDetailSchema, detail, 'GuardDuty finding');
  const interfaces = (finding.resource?.instanceDetails?.networkInterfaces ?? []).filter((eni) =>
    inDeviceVpcs(eni.vpcId, rules.scope),
  );
  const role = finding.service?.resourceRole?.toUpperCase();
  const devices =
    role === 'TARGET'
      ? []
      : unique(
          interfaces.flatMap((eni) => [
            eni.privateIpAddress,
            ...(eni.privateIpAddresses ?? []).map((entry) => entry.privateIpAddress),
            ...(eni.ipv6Addresses ?? []),
          ]),
        );
  const origins = role === 'ACTOR' ? [] : unique(remoteIps(finding.service?.action ?? {}));
  const title = finding.title ?? finding.type;
  const ignored = guardDutyIgnored(finding, rules);
  const arn = guardDutyFindingArn({ ...finding, detectorId: finding.service?.detectorId });
  return {
    criteria: [...intoDevices(devices), ...fromOrigins(origins)],
    findingId: finding.id,
    findingTitle: title,
    reason: `GuardDuty finding ${finding.type} (severity ${finding.severity}, resource role ${role ?? 'not given'}): ${title}`,
    ...(ignored ? { ignored } : { findingKeys: [findingKey(arn, finding.updatedAt)] }),
  };
}

export interface SecurityHubRules {
  /** Severity labels imported findings must have. */
  labels: Set<string>;
  /** Product ARNs findings must come from, `*` matching any run of characters. */
  products: string[];
}

/** ASFF Types that describe activity: an imported finding acts only with one of them. The rule's pattern lists the same. */
export const INTRUSION_TYPE_PREFIXES = ['TTPs/', 'Effects/', 'Unusual Behaviors/'] as const;
/** ASFF Types that never describe an intrusion (vulnerabilities, failed controls, sensitive data). */
const NEVER_TYPE_PREFIXES = ['Software and Configuration Checks/', 'Sensitive Data Identifications/'] as const;

type AsffFinding = z.output<typeof asffFindingSchema>;

function productAllowed(productArn: string | undefined, products: string[]): boolean {
  return products.some((pattern) => {
    const expression = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'));
    return new RegExp(`^${expression.join('.*')}$`).test(productArn ?? '');
  });
}

function typesIgnored(types: string[] | undefined): string | undefined {
  const never = (types ?? []).find((type) => NEVER_TYPE_PREFIXES.some((prefix) => type.startsWith(prefix)));
  if (never !== undefined) return `its type ${never} is not an intrusion`;
  if ((types ?? []).some((type) => INTRUSION_TYPE_PREFIXES.some((prefix) => type.startsWith(prefix)))) return undefined;
  return `its types (${(types ?? []).join(', ') || 'none'}) do not say intrusion (${INTRUSION_TYPE_PREFIXES.join(', ')})`;
}

/**
 * True when the finding's last change is this product's own note: Security Hub emits an Imported event for every
 * BatchUpdateFindings and leaves UpdatedAt as it was, so a note of ours at or after UpdatedAt is the whole change.
 */
function ownWriteBack(finding: AsffFinding): boolean {
  if (finding.Note?.UpdatedBy !== NOTE_AUTHOR) return false;
  return !(Date.parse(finding.Note.UpdatedAt ?? '') < Date.parse(finding.UpdatedAt));
}

/**
 * Why an imported finding is not to be acted on, if it is not. EventBridge matches a pattern on an
 * array of objects field by field across all its elements, so the rule cannot vouch for each finding.
 */
function importedFindingIgnored(finding: AsffFinding, rules: SecurityHubRules): string | undefined {
  if (!productAllowed(finding.ProductArn, rules.products)) {
    return `product ${finding.ProductArn ?? '(none)'} is not in SECURITYHUB_PRODUCTS`;
  }
  const types = typesIgnored(finding.Types);
  if (types) return types;
  const label = (finding.Severity?.Label ?? '').toUpperCase();
  if (!rules.labels.has(label)) return `severity ${label || '(none)'} is not ${[...rules.labels].join(' or ')}`;
  if ((finding.RecordState ?? 'ACTIVE').toUpperCase() !== 'ACTIVE') return `record state is ${finding.RecordState}`;
  const workflow = finding.Workflow?.Status?.toUpperCase();
  if (workflow !== 'NEW') return `workflow status is ${workflow ?? '(none)'}, not NEW`;
  if (ownWriteBack(finding)) return `its last change is this product's own note (${NOTE_AUTHOR}'s write-back)`;
  return undefined;
}

const ec2Instances = (finding: AsffFinding) =>
  (finding.Resources ?? []).flatMap((resource) => {
    const details = resource.Details?.AwsEc2Instance;
    return details ? [{ id: resource.Id ?? '(no id)', details }] : [];
  });

/** Why a finding (imported or chosen by an analyst) is outside the deployment's accounts or VPCs, if it is. */
function scopeIgnored(finding: AsffFinding, scope: FindingScope): string | undefined {
  const account = accountIgnored(finding.AwsAccountId, scope);
  if (account) return account;
  const instances = ec2Instances(finding);
  if (instances.length === 0) return undefined;
  const id = instances.map((instance) => instance.id).join(', ');
  return vpcIgnored(
    id,
    instances.map((instance) => instance.details.VpcId),
    scope,
  );
}

/**
 * The resource's role in an ASFF finding, as GuardDuty's: its own field when GuardDuty sent it,
 * else the traffic's direction (IN: the resource was reached, a target; OUT: it reached out).
 */
function resourceRole(finding: AsffFinding): string | undefined {
  const role = finding.ProductFields?.['aws/guardduty/service/resourceRole'];
  if (typeof role === 'string') return role.toUpperCase();
  const direction = finding.Network?.Direction?.toUpperCase();
  return direction === 'IN' ? 'TARGET' : direction === 'OUT' ? 'ACTOR' : undefined;
}

/**
 * Security Hub ASFF findings: EC2 instances' IPv4/IPv6 addresses as device hosts (of the instances in
 * DEVICE_VPCS, when set), and Network.SourceIpV4/V6 as origin_ip, by the resource's role as for
 * GuardDuty. Every finding must be in scope (account, VPC); imported findings are each checked again
 * here (product, types, label, record state, workflow, the product's own write-back). A custom action
 * (`rules` undefined) is an analyst's explicit choice and counts whatever else the finding says.
 */
export function securityHubTargets(
  detail: unknown,
  scope: FindingScope,
  rules: SecurityHubRules | undefined,
): FindingTargets {
  const { findings, actionName } = parseFinding(securityHubDetailSchema, detail, 'Security Hub event');
  const verdicts = findings.map((finding) => ({
    finding,
    ignored: (rules && importedFindingIgnored(finding, rules)) ?? scopeIgnored(finding, scope),
  }));
  const relevant = verdicts.flatMap(({ finding, ignored }) => (ignored ? [] : [finding]));
  const devices = unique(
    relevant.flatMap((finding) =>
      resourceRole(finding) === 'TARGET'
        ? []
        : ec2Instances(finding)
            .filter((instance) => inDeviceVpcs(instance.details.VpcId, scope))
            .flatMap(({ details }) => [...(details.IpV4Addresses ?? []), ...(details.IpV6Addresses ?? [])]),
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
  const keys = rules ? [...new Set(relevant.map((finding) => findingKey(finding.Id, finding.UpdatedAt)))].sort() : [];
  return {
    criteria: [...intoDevices(devices), ...fromOrigins(origins)],
    findingId: findings.map((finding) => finding.Id).join(', '),
    findingTitle: title,
    reason: `Security Hub${via}: ${title}${leftOut}`,
    findings: relevant.flatMap((finding) =>
      finding.ProductArn ? [{ id: finding.Id, productArn: finding.ProductArn }] : [],
    ),
    ...(keys.length > 0 ? { findingKeys: keys } : {}),
    ...(relevant.length === 0 ? { ignored: `no finding to act on: ${left.join('; ')}` } : {}),
  };
}
