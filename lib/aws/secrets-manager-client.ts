import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWS_REQUEST_LIMITS } from './request-limits.js';

/**
 * One Secrets Manager client per container; region and endpoint come from the SDK's standard
 * configuration. A cold termination waits for GetSecretValue, which answers in tens of milliseconds:
 * 3 s an attempt, 3 attempts (the SDK's standard retries, with jittered backoff).
 */
export const secretsManager = new SecretsManagerClient({
  requestHandler: { ...AWS_REQUEST_LIMITS, connectionTimeout: 1_000, requestTimeout: 3_000 },
  maxAttempts: 3,
});
