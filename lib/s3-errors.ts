import { ConfigurationError, ResponderError, StorageUnavailableError } from './errors.js';

const OPERATOR_MUST_ACT = new Set(['AccessDenied', 'AllAccessDisabled', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidBucketName', 'KMS.DisabledException']);

/** An S3 failure as an error an operator can act on: a typed error passes through unchanged. */
export function storageFailure(error: unknown, bucket: string): ResponderError {
  if (error instanceof ResponderError) return error;
  const name = error instanceof Error ? error.name : 'unknown error';
  if (name === 'NoSuchBucket') return new ConfigurationError(`Bucket "${bucket}" does not exist (check EXPORT_BUCKET)`);
  if (OPERATOR_MUST_ACT.has(name)) return new ConfigurationError(`Not allowed to use bucket "${bucket}": ${name} (check the function's IAM role and the bucket policy)`);
  return new StorageUnavailableError(`S3 failed for bucket "${bucket}": ${name}`);
}
