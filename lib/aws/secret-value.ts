import pRetry from 'p-retry';
import { environmentCredentials } from '../core/settings.js';
import { callJsonApi, isTransientJsonError, jsonApiEndpoint } from './json-api.js';

/** One call, connection included: a cold termination's DELETE waits for the secret. */
const CALL_TIMEOUT_MS = 5_000;
/** As the SDK's standard retries: throttling, AWS's own failures and lost connections, 3 attempts with jittered backoff. */
const ATTEMPTS = 3;

export interface SignedSecretsManager {
  /** The secret's SecretString (undefined for a binary secret); a refusal is thrown as AwsJsonError. */
  getSecretString(secretId: string): Promise<string | undefined>;
}

/**
 * Secrets Manager's GetSecretValue signed by the SDK's own SigV4 signer and sent with Node's HTTP
 * client, as PutEvents is: the Secrets Manager client and Powertools' provider cost a cold start
 * about 20 ms before its DELETE (npm run bench). Undefined without credentials in the environment
 * (never on Lambda) or for an endpoint only the SDK's rules know (FIPS, dual-stack, another
 * partition): the SDK client reads the secret then.
 */
export function signedSecretsManager(): SignedSecretsManager | undefined {
  const environment = environmentCredentials();
  const endpoint = environment && jsonApiEndpoint(environment, 'secretsmanager', environment.secretsManagerEndpoint);
  if (!environment || !endpoint) return undefined;
  return {
    async getSecretString(secretId) {
      const answer = await pRetry(
        () =>
          callJsonApi<{ SecretString?: string }>(
            'secretsmanager',
            'secretsmanager.GetSecretValue',
            { SecretId: secretId },
            { environment, endpoint, timeoutMs: CALL_TIMEOUT_MS },
          ),
        {
          retries: ATTEMPTS - 1,
          minTimeout: 100,
          factor: 2,
          maxTimeout: 1_000,
          randomize: true,
          shouldRetry: ({ error }) => isTransientJsonError(error),
        },
      );
      return answer.SecretString;
    },
  };
}
