/** Time limits for every AWS SDK call; the SDK's own retries (3 attempts, with backoff) stay on. */
export const AWS_REQUEST_LIMITS = { connectionTimeout: 3_000, requestTimeout: 15_000 };
