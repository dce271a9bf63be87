import { afterAll, expect } from 'vitest';
import { issuedCredentialValues } from '../../infra/local/local-pam.js';
import { captureOutput, stopCapturing } from './output-capture.js';

captureOutput();

// After every test file: nothing it logged holds a credential, a signature, a nonce, an Authorization header or a token.
afterAll(() => {
  const logs = stopCapturing();
  for (const value of issuedCredentialValues()) expect(logs).not.toContain(value);
  expect(logs).not.toMatch(/oauth_signature|oauth_nonce|oauth_consumer_key/);
  expect(logs).not.toMatch(/"authorization"\s*:/i);
  expect(logs).not.toMatch(/Bearer [A-Za-z0-9._~+/-]{16,}/);
});
