import { awsErrorName } from '../aws/aws-errors.js';
import { createSchedule, deleteSchedule, isScheduleConflict } from '../aws/scheduler.js';
import { ConfigurationError } from '../core/errors.js';
import type { ContainmentSettings } from '../core/settings.js';
import {
  activateCredential,
  CREDENTIAL_ERRORS,
  credentialErrorCode,
  deactivateCredential,
} from '../pam/credential-api.js';
import type { PamCallOptions } from '../pam/pam-client.js';
import { TerminationIncompleteError } from '../termination/termination-errors.js';
import type { StepResult } from './rotate.js';

/** One schedule per credential: a redelivery finds it taken (ConflictException) instead of making a second. */
export function reactivationScheduleName(credentialId: string): string {
  return `reactivate-credential-${credentialId}`;
}

/** What the schedule hands the reactivation function (functions/credentials.ts). */
export interface ReactivationInput {
  action: 'reactivate';
  credential_id: string;
  schedule: string;
  reason: string;
}

/** Scheduler's one-time expression: `at(yyyy-mm-ddThh:mm:ss)`, read in ScheduleExpressionTimezone (UTC). */
export function atExpression(when: Date): string {
  return `at(${when.toISOString().slice(0, 19)})`;
}

/** The whole minute `minutes` from now, rounded up: Scheduler fires at a second, not before it. */
function reactivationTime(minutes: number, now = Date.now()): Date {
  return new Date(Math.ceil((now + minutes * 60_000) / 1_000) * 1_000);
}

function scheduleTarget(settings: ContainmentSettings): { targetArn: string; roleArn: string } {
  const { reactivationTargetArn, scheduleRoleArn } = settings;
  if (!reactivationTargetArn || !scheduleRoleArn) {
    throw new ConfigurationError(
      'REACTIVATION_TARGET_ARN and REACTIVATION_SCHEDULE_ROLE_ARN must be set to schedule a reactivation (or set QUARANTINE_MINUTES=0)',
    );
  }
  return { targetArn: reactivationTargetArn, roleArn: scheduleRoleArn };
}

/**
 * A one-time schedule that reactivates the credential after `minutes`, deleted by Scheduler once it
 * ran. `replace` (a human extending a quarantine) deletes the one there first; otherwise a schedule
 * already there (a redelivery) is kept. Answers when it runs, or null when it was there already.
 */
export async function scheduleReactivation(
  credentialId: string,
  minutes: number,
  settings: ContainmentSettings,
  options: { reason: string; replace: boolean },
): Promise<string | null> {
  const { targetArn, roleArn } = scheduleTarget(settings);
  const name = reactivationScheduleName(credentialId);
  if (options.replace) await deleteSchedule({ Name: name, GroupName: settings.scheduleGroup });
  const when = reactivationTime(minutes);
  const input: ReactivationInput = {
    action: 'reactivate',
    credential_id: credentialId,
    schedule: name,
    reason: options.reason,
  };
  try {
    await createSchedule({
      Name: name,
      GroupName: settings.scheduleGroup,
      ScheduleExpression: atExpression(when),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Description: `Reactivates PAM credential ${credentialId} at the end of its quarantine`.slice(0, 512),
      Target: {
        Arn: targetArn,
        RoleArn: roleArn,
        Input: JSON.stringify(input),
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 86_400 },
      },
    });
  } catch (error) {
    if (!isScheduleConflict(error)) throw error;
    // Made by the first delivery of this request: its time stands.
    return null;
  }
  return when.toISOString();
}

/**
 * Quarantines a credential: `DELETE …/credential/{id}`, then the schedule that reactivates it after
 * QUARANTINE_MINUTES (none for 0). PAM's 1008 (already inactive) is not a failure: it is
 * already quarantined, and no schedule is made for it (a human may have deactivated it, and only a
 * human reactivates it; a redelivery's schedule is the first delivery's).
 */
export async function quarantineCredential(
  credentialId: string,
  settings: ContainmentSettings,
  options: PamCallOptions & { reason: string },
): Promise<StepResult & { reactivate_at?: string | null }> {
  try {
    await deactivateCredential(credentialId, options);
  } catch (error) {
    if (credentialErrorCode(error) === CREDENTIAL_ERRORS.inactive) {
      return { outcome: 'already_quarantined', message: 'PAM says the credential is already inactive (1008)' };
    }
    throw error;
  }
  if (settings.quarantineMinutes === 0) {
    return {
      outcome: 'quarantined',
      reactivate_at: null,
      message: 'QUARANTINE_MINUTES is 0: only a human reactivates it',
    };
  }
  let at: string | null;
  try {
    at = await scheduleReactivation(credentialId, settings.quarantineMinutes, settings, {
      reason: options.reason,
      replace: false,
    });
  } catch (error) {
    // Quarantined for good until a human acts: said loudly, so nobody assumes it comes back by itself.
    throw new TerminationIncompleteError(
      `credential ${credentialId} was deactivated, but its reactivation could not be scheduled (${awsErrorName(error) ?? String(error)}): reactivate it with POST /credentials/${credentialId}/reactivate when the incident allows`,
      { cause: error },
    );
  }
  if (at === null) return { outcome: 'quarantined', message: 'its reactivation was already scheduled' };
  return { outcome: 'quarantined', reactivate_at: at };
}

/** `PUT …/credential/{id}`, then the pending schedule (if any) is deleted: a reactivation by hand ends the quarantine. */
export async function reactivateCredential(
  credentialId: string,
  settings: ContainmentSettings,
  options: PamCallOptions,
): Promise<StepResult> {
  await activateCredential(credentialId, options);
  const deleted = await deleteSchedule({
    Name: reactivationScheduleName(credentialId),
    GroupName: settings.scheduleGroup,
  });
  return { outcome: 'reactivated', ...(deleted ? { message: 'its scheduled reactivation was deleted' } : {}) };
}
