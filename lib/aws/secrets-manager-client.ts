import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWS_REQUEST_LIMITS } from './request-limits.js';

/** One Secrets Manager client per container; region and endpoint come from the SDK's standard configuration. */
export const secretsManager = new SecretsManagerClient({ requestHandler: AWS_REQUEST_LIMITS });
