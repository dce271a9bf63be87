import { ConfigurationError, ResponderError, responderErrorClass } from '../core/errors.js';

/** S3 failed for a reason that may pass (throttling, a network error, a 5xx). */
export class StorageUnavailableError extends responderErrorClass(
  'StorageUnavailableError',
  'storage_unavailable',
  503,
) {}

/** The SDK's error names (S3, Secrets Manager, Powertools' wrapper) that retrying cannot fix. */
const NOT_FOUND = new Set(['NoSuchBucket', 'ResourceNotFoundException', 'ParameterNotFoundError']);
const OPERATOR_MUST_ACT = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'AllAccessDisabled',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'IncompleteSignature',
  'InvalidBucketName',
  'KMS.DisabledException',
  'DecryptionFailure',
  'InvalidRequestException',
  'InvalidParameterException',
  'UnrecognizedClientException',
  'CredentialsProviderError',
]);

export type AwsFailureKind = 'not_found' | 'operator_must_act' | 'transient';

/**
 * The SDK error's name, looking through a wrapper's `cause` (Powertools wraps the SDK's errors); for
 * a lost connection, whose name is only "Error", its code (ECONNREFUSED, ECONNRESET…).
 */
export function awsErrorName(error: unknown): string | undefined {
  const cause = error instanceof Error ? (error.cause ?? error) : error;
  if (!(cause instanceof Error)) return undefined;
  const code = (cause as { code?: unknown }).code;
  return cause.name === 'Error' && typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : cause.name;
}

/**
 * Worth sending again: throttling, AWS's own failures and lost connections; a refusal (access
 * denied, a malformed call) is not.
 */
export function isTransientAwsError(error: unknown): boolean {
  const { $metadata, $fault, name } = (error ?? {}) as {
    $metadata?: { httpStatusCode?: number };
    $fault?: string;
    name?: string;
  };
  const status = $metadata?.httpStatusCode;
  if (status === undefined) return true;
  return $fault === 'server' || status >= 500 || status === 429 || /Throttl/i.test(name ?? '');
}

/** Whether an operator must act (a missing resource, a refusal) or the failure may pass. */
export function awsFailureKind(name: string | undefined): AwsFailureKind {
  if (name !== undefined && NOT_FOUND.has(name)) return 'not_found';
  if (name !== undefined && OPERATOR_MUST_ACT.has(name)) return 'operator_must_act';
  return 'transient';
}

/** An S3 failure as an error an operator can act on: a typed error passes through unchanged. */
export function storageFailure(error: unknown, bucket: string): ResponderError {
  if (error instanceof ResponderError) return error;
  const name = error instanceof Error ? error.name : 'unknown error';
  switch (awsFailureKind(name)) {
    case 'not_found':
      return new ConfigurationError(`Bucket "${bucket}" does not exist (check EXPORT_BUCKET)`, { cause: error });
    case 'operator_must_act':
      return new ConfigurationError(
        `Not allowed to use bucket "${bucket}": ${name} (check the function's IAM role and the bucket policy)`,
        { cause: error },
      );
    default:
      return new StorageUnavailableError(`S3 failed for bucket "${bucket}": ${name}`, { cause: error });
  }
}
