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
}

const str = z.optional(z.string());

const guardDutyDetailSchema = z.object({
  id: z.string({ error: 'detail.id must be a string' }),
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
  service: z.optional(z.object({ action: z.optional(z.record(z.string(), z.unknown())) })),
});

const asffFindingSchema = z.object({
  Id: z.string({ error: 'each finding needs an Id' }),
  Title: str,
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
  Network: z.optional(z.object({ SourceIpV4: str, SourceIpV6: str })),
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

/**
 * A GuardDuty finding targets sessions INTO the instance it names (its private IPs as the
 * session's device host) and sessions FROM the remote addresses it saw (as origin_ip).
 */
export function guardDutyTargets(detail: unknown, minSeverity: number): FindingTargets {
  const finding = parse(guardDutyDetailSchema, detail, 'GuardDuty finding');
  const interfaces = finding.resource?.instanceDetails?.networkInterfaces ?? [];
  const devices = unique(
    interfaces.flatMap((eni) => [
      eni.privateIpAddress,
      ...(eni.privateIpAddresses ?? []).map((entry) => entry.privateIpAddress),
    ]),
  );
  const origins = unique(remoteIps(finding.service?.action ?? {}));
  const title = finding.title ?? finding.type;
  return {
    criteria: [...intoDevices(devices), ...fromOrigins(origins)],
    findingId: finding.id,
    findingTitle: title,
    reason: `GuardDuty finding ${finding.type} (severity ${finding.severity}): ${title}`,
    ...(finding.severity < minSeverity
      ? { ignored: `severity ${finding.severity} is below the threshold ${minSeverity}` }
      : {}),
  };
}

/**
 * Security Hub ASFF findings: EC2 instances' IPv4/IPv6 addresses as device hosts, and
 * Network.SourceIpV4/V6 as origin_ip. Imported findings count only at the configured labels;
 * a custom action is an analyst's explicit choice and counts whatever the label.
 */
export function securityHubTargets(detail: unknown, labels: Set<string> | undefined): FindingTargets {
  const { findings, actionName } = parse(securityHubDetailSchema, detail, 'Security Hub event');
  const relevant =
    labels === undefined
      ? findings
      : findings.filter((finding) => labels.has((finding.Severity?.Label ?? '').toUpperCase()));
  const devices = unique(
    relevant.flatMap((finding) =>
      (finding.Resources ?? []).flatMap((resource) => [
        ...(resource.Details?.AwsEc2Instance?.IpV4Addresses ?? []),
        ...(resource.Details?.AwsEc2Instance?.IpV6Addresses ?? []),
      ]),
    ),
  );
  const origins = unique(relevant.flatMap((finding) => [finding.Network?.SourceIpV4, finding.Network?.SourceIpV6]));
  const first = findings[0];
  const title = findings.length === 1 ? (first?.Title ?? first?.Id ?? '') : `${findings.length} findings`;
  const via = actionName ? ` via custom action "${actionName}"` : '';
  return {
    criteria: [...intoDevices(devices), ...fromOrigins(origins)],
    findingId: findings.map((finding) => finding.Id).join(', '),
    findingTitle: title,
    reason: `Security Hub${via}: ${title}`,
    ...(relevant.length === 0 ? { ignored: `no finding at severity ${[...(labels ?? [])].join(' or ')}` } : {}),
  };
}
