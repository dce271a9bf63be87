import * as z from 'zod/mini';
import { ValidationError } from '../core/errors.js';
import { issuesMessage } from '../core/zod-issues.js';

/** The shapes of the findings drop reads, as AWS documents them (GuardDuty's event detail, ASFF): what it relies on. */
const str = z.optional(z.string());

export const guardDutyDetailSchema = z.object({
  id: z.string({ error: 'detail.id must be a string' }),
  arn: str,
  partition: str,
  region: str,
  accountId: str,
  updatedAt: z.string({ error: 'detail.updatedAt must be a string' }),
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
                vpcId: str,
                privateIpAddress: z.optional(z.nullable(z.string())),
                privateIpAddresses: z.optional(
                  z.array(z.object({ privateIpAddress: z.optional(z.nullable(z.string())) })),
                ),
                ipv6Addresses: z.optional(z.nullable(z.array(z.string()))),
              }),
            ),
          ),
        }),
      ),
    }),
  ),
  service: z.optional(
    z.object({
      detectorId: str,
      action: z.optional(z.record(z.string(), z.unknown())),
      resourceRole: str,
      archived: z.optional(z.boolean()),
      additionalInfo: z.optional(z.record(z.string(), z.unknown())),
    }),
  ),
});

export const asffFindingSchema = z.object({
  Id: z.string({ error: 'each finding needs an Id' }),
  ProductArn: str,
  AwsAccountId: str,
  UpdatedAt: z.string({ error: 'each finding needs an UpdatedAt' }),
  Types: z.optional(z.array(z.string())),
  Title: str,
  RecordState: str,
  Workflow: z.optional(z.object({ Status: str })),
  Note: z.optional(z.object({ Text: str, UpdatedBy: str, UpdatedAt: str })),
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
                VpcId: str,
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

export const securityHubDetailSchema = z.object({
  findings: z
    .array(asffFindingSchema, { error: 'detail.findings must be an array' })
    .check(z.minLength(1, 'detail.findings is empty')),
  actionName: str,
});

export function parseFinding<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError(`${what}: ${issuesMessage(parsed.error)}`);
  return parsed.data;
}
