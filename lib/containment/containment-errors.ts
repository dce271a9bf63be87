import { responderErrorClass } from '../core/errors.js';

/** PAM does not know the credential (its error 1007); nothing was changed. */
export class CredentialNotFoundError extends responderErrorClass(
  'CredentialNotFoundError',
  'credential_not_found',
  404,
) {}
