import { deleteSchedule } from '../aws/scheduler.js';
import { containmentSettings } from '../core/settings.js';
import { CREDENTIAL_ERRORS, credentialErrorCode, deactivateCredential } from '../pam/credential-api.js';
import type { PamCallOptions } from '../pam/pam-client.js';
import { PamApiError } from '../pam/pam-errors.js';
import type { Trigger } from '../termination/termination-request.js';
import { CredentialNotFoundError } from './containment-errors.js';
import type { ContainmentOutcome } from './containment-outcome.js';
import { reportContainment } from './containment-report.js';
import { reactivateCredential, reactivationScheduleName, scheduleReactivation } from './quarantine.js';

/** A credential named by id, to reactivate or to quarantine (again, or longer), by hand or by its schedule. */
export interface CredentialRequest {
  action: 'reactivate' | 'quarantine';
  credentialId: string;
  reason: string;
  requestedBy: string | undefined;
  /** For a quarantine: minutes until the scheduled reactivation (0: only by hand); QUARANTINE_MINUTES when not given. */
  minutes?: number;
  trigger: Trigger;
  occurredAt: number;
}

export interface CredentialResponse {
  credential_id: string;
  action: CredentialRequest['action'];
  outcome: ContainmentOutcome['outcome'];
  reactivate_at?: string | null;
  message?: string;
  audit: { published: number; failed: number };
}

/** PAM's 1007 is the caller's mistake (404); other refusals pass as they are. */
function notFound(error: unknown, id: string): unknown {
  if (credentialErrorCode(error) !== CREDENTIAL_ERRORS.notFound) return error;
  const said = error instanceof PamApiError ? `: ${error.message}` : '';
  return new CredentialNotFoundError(`PAM does not know credential ${id} (1007)${said}`, { cause: error });
}

async function quarantine(request: CredentialRequest, options: PamCallOptions) {
  const settings = containmentSettings();
  const minutes = request.minutes ?? settings.quarantineMinutes;
  let already = false;
  try {
    await deactivateCredential(request.credentialId, options);
  } catch (error) {
    // A human asking again extends the quarantine: an inactive credential gets a new reactivation time.
    if (credentialErrorCode(error) !== CREDENTIAL_ERRORS.inactive) throw error;
    already = true;
  }
  const outcome = already ? ('already_quarantined' as const) : ('quarantined' as const);
  if (minutes === 0) {
    await deleteSchedule({ Name: reactivationScheduleName(request.credentialId), GroupName: settings.scheduleGroup });
    return { outcome, reactivate_at: null, message: 'no reactivation is scheduled: only a human reactivates it' };
  }
  const at = await scheduleReactivation(request.credentialId, minutes, settings, {
    reason: request.reason,
    replace: true,
  });
  return { outcome, reactivate_at: at };
}

/**
 * POST /credentials/{id}/reactivate, POST /credentials/{id}/quarantine, or the schedule's reactivation:
 * PAM is changed, the schedule follows, and the outcome is logged, counted and audited with the caller.
 */
export async function actOnCredential(
  request: CredentialRequest,
  options: PamCallOptions,
): Promise<CredentialResponse> {
  let result: { outcome: ContainmentOutcome['outcome']; message?: string; reactivate_at?: string | null };
  try {
    result =
      request.action === 'reactivate'
        ? await reactivateCredential(request.credentialId, containmentSettings(), options)
        : await quarantine(request, options);
  } catch (error) {
    throw notFound(error, request.credentialId);
  }
  const outcome: ContainmentOutcome = {
    action: request.action,
    ...result,
    credential: { id: request.credentialId, username: null, device: null },
    session_ids: [],
    contained_age_ms: Date.now() - request.occurredAt,
  };
  const report = await reportContainment(
    [],
    [outcome],
    { reason: request.reason, requested_by: request.requestedBy ?? null, dry_run: false, trigger: request.trigger },
    undefined,
  );
  return {
    credential_id: request.credentialId,
    action: request.action,
    outcome: result.outcome,
    ...(result.reactivate_at === undefined ? {} : { reactivate_at: result.reactivate_at }),
    ...(result.message ? { message: result.message } : {}),
    audit: report.audit,
  };
}
