/** Time limits for every AWS SDK call, enforced (without throwOnRequestTimeout the SDK only warns); its own retries (3 attempts, with backoff) stay on. */
export const AWS_REQUEST_LIMITS = { connectionTimeout: 3_000, requestTimeout: 15_000, throwOnRequestTimeout: true };
