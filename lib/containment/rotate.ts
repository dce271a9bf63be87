import { CREDENTIAL_ERRORS, credentialErrorCode, releaseCustody, takeCustody } from '../pam/credential-api.js';
import type { PamCallOptions } from '../pam/pam-client.js';
import { PamApiError } from '../pam/pam-errors.js';
import type { ContainmentOutcomeKind } from './containment-outcome.js';

export interface StepResult {
  outcome: ContainmentOutcomeKind;
  message?: string;
}

/**
 * Rotates a credential the way the A2A API allows: take custody (`GET …/credential/{id}`) and
 * release it (`DELETE …/credential/custody/{id}`); where automatic change is configured, the release
 * makes the PAM Core change the password. The password custody hands over is never kept.
 * Safe to run again: a second run takes and releases custody again (another change).
 */
export async function rotateCredential(id: string, options: PamCallOptions): Promise<StepResult> {
  try {
    await takeCustody(id, options);
  } catch (error) {
    if (credentialErrorCode(error) === CREDENTIAL_ERRORS.inactive) {
      return {
        outcome: 'not_contained',
        message: 'PAM refused custody: the credential is inactive (1008), so nobody can use it until it is reactivated',
      };
    }
    throw error;
  }
  try {
    await releaseCustody(id, options);
    return { outcome: 'rotated' };
  } catch (error) {
    // Released in between (by PAM or a redelivery's own run): the release that changes the password happened.
    if (credentialErrorCode(error) === CREDENTIAL_ERRORS.notInCustody) {
      return {
        outcome: 'rotated',
        message: 'PAM said the credential was no longer in custody (1018): already released',
      };
    }
    throw error;
  }
}

/** What a vendor refusal means for a containment, in words an operator acts on. */
export function refusalMessage(error: unknown): string {
  const code = credentialErrorCode(error);
  const base = error instanceof PamApiError ? error.message : String(error);
  switch (code) {
    case CREDENTIAL_ERRORS.notFound:
      return `PAM does not know this credential (1007): ${base}`;
    case CREDENTIAL_ERRORS.noAccess:
      return `the A2A authorization has no access to this credential (1009): grant it in PAM; ${base}`;
    case CREDENTIAL_ERRORS.noWritePermission:
      return `the A2A authorization lacks PAM write permission (1039): grant it in PAM; ${base}`;
    default:
      return base;
  }
}
