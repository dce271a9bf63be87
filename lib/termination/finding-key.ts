import { ValidationError } from '../core/errors.js';

/**
 * A finding's version, for handling it once: the finding's ARN and the instant it was last updated,
 * `<arn>@<ISO 8601 UTC>`. GuardDuty's own event and Security Hub's copy of it give the same key (the
 * ASFF `Id` of GuardDuty's copy is the GuardDuty finding's ARN, its `UpdatedAt` GuardDuty's
 * `updatedAt`), however each writes the time; an update of the finding gives a new key.
 */
export function findingKey(findingArn: string, updatedAt: string): string {
  const at = Date.parse(updatedAt);
  if (!Number.isFinite(at))
    throw new ValidationError(`finding ${findingArn}: its update time "${updatedAt}" is not a time`);
  return `${findingArn}@${new Date(at).toISOString()}`;
}

/** What a GuardDuty finding's ARN is made of, when the event does not carry the ARN itself. */
export interface GuardDutyFindingName {
  arn?: string | undefined;
  partition?: string | undefined;
  region?: string | undefined;
  accountId?: string | undefined;
  detectorId?: string | undefined;
  id: string;
}

/** The GuardDuty finding's ARN: `detail.arn`, else `arn:<partition>:guardduty:<region>:<account>:detector/<detector>/finding/<id>`. */
export function guardDutyFindingArn(finding: GuardDutyFindingName): string {
  if (finding.arn) return finding.arn;
  const { partition, region, accountId, detectorId, id } = finding;
  if (!region || !accountId || !detectorId) {
    throw new ValidationError(
      `GuardDuty finding ${id}: without detail.arn, its ARN needs detail.region, detail.accountId and detail.service.detectorId`,
    );
  }
  return `arn:${partition || 'aws'}:guardduty:${region}:${accountId}:detector/${detectorId}/finding/${id}`;
}
