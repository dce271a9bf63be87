import { expect } from 'vitest';

/** Nothing logged holds an OAuth signature, nonce or consumer key, an Authorization header or a bearer token. */
export function expectNoSecretPatterns(logs: string): void {
  expect(logs).not.toMatch(/oauth_signature|oauth_nonce|oauth_consumer_key/);
  expect(logs).not.toMatch(/"authorization"\s*:/i);
  expect(logs).not.toMatch(/Bearer [A-Za-z0-9._~+/-]{16,}/);
}
