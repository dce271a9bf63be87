import { afterAll, expect } from 'vitest';
import { issuedCredentialValues } from '../../infra/local/local-pam.js';
import { captureOutput, stopCapturing } from './output-capture.js';
import { expectNoSecretPatterns } from './secret-patterns.js';

captureOutput();

// After every test file: nothing it logged holds a credential, a signature, a nonce, an Authorization header or a token.
afterAll(() => {
  const logs = stopCapturing();
  for (const value of issuedCredentialValues()) expect(logs).not.toContain(value);
  expectNoSecretPatterns(logs);
});
