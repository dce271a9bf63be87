import pRetry, { AbortError } from 'p-retry';
import { callJsonApi, isTransientJsonError, jsonApi } from './json-api.js';

/** One call, connection included: GetSecretValue answers in tens of milliseconds, and a cold DELETE waits for it. */
const CALL_TIMEOUT_MS = 3_000;
/** As the SDK's standard retries: throttling, AWS's own failures and lost connections, 3 attempts with jittered backoff. */
const ATTEMPTS = 3;

export interface SignedSecretsManager {
  /**
   * The secret's SecretString (undefined for a binary secret), every attempt over by `deadline`
   * (epoch ms); a refusal is thrown as AwsJsonError, no time left as a TimeoutError.
   */
  getSecretString(secretId: string, deadline?: number): Promise<string | undefined>;
}

/**
 * Secrets Manager's GetSecretValue signed by the SDK's own SigV4 signer and sent with Node's HTTP
 * client, as PutEvents is: the Secrets Manager client and Powertools' provider cost a cold start
 * about 30 ms before its DELETE (npm run bench). Undefined without credentials in the environment
 * (never on Lambda) or for an endpoint only the SDK's rules know (FIPS, dual-stack, another
 * partition): the SDK client reads the secret then.
 */
export function signedSecretsManager(): SignedSecretsManager | undefined {
  const api = jsonApi('secretsmanager');
  if (!api) return undefined;
  return {
    async getSecretString(secretId, deadline = Date.now() + ATTEMPTS * CALL_TIMEOUT_MS) {
      const answer = await pRetry(
        () => {
          // Whole milliseconds: timers refuse fractions.
          const remaining = Math.floor(deadline - Date.now());
          if (remaining <= 0) throw new AbortError(new DOMException('no time left to read the secret', 'TimeoutError'));
          return callJsonApi<{ SecretString?: string }>(
            api,
            'secretsmanager.GetSecretValue',
            { SecretId: secretId },
            Math.min(CALL_TIMEOUT_MS, remaining),
          );
        },
        {
          retries: ATTEMPTS - 1,
          minTimeout: 100,
          factor: 2,
          maxTimeout: 1_000,
          randomize: true,
          maxRetryTime: Math.max(0, deadline - Date.now()),
          shouldRetry: ({ error }) => isTransientJsonError(error),
        },
      );
      return answer.SecretString;
    },
  };
}
