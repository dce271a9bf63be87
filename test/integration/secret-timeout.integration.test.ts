import { createServer, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeServer, listenOnLoopback } from '../../infra/local/loopback-server.js';
import { SecretsUnavailableError } from '../../lib/pam/pam-errors.js';
import { forgetCachedSecret, loadPamConnection } from '../../lib/pam/pam-secret.js';

/** A Secrets Manager that takes every request and never responds. */
const silent: IncomingMessage[] = [];
const server = createServer((request) => {
  silent.push(request);
});

beforeAll(async () => {
  const port = await listenOnLoopback(server);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', `http://127.0.0.1:${port}`);
  vi.stubEnv('PAM_SECRET_ID', 'pam/a2a');
  forgetCachedSecret();
});
afterAll(async () => {
  vi.unstubAllEnvs();
  server.closeAllConnections();
  await closeServer(server);
});

describe('a Secrets Manager that does not respond', () => {
  it('gives up after 3 attempts of 3 s when Secrets Manager does not answer, and says so', async () => {
    const started = Date.now();
    const read = loadPamConnection();
    await expect(read).rejects.toThrow(SecretsUnavailableError);
    await expect(read).rejects.toThrow(/Secret "pam\/a2a" could not be read right now/);
    expect(silent).toHaveLength(3);
    // 3 attempts of 3 s and the SDK's backoff between them (about 10 s): 5 times that, never the Lambda timeout.
    expect(Date.now() - started).toBeLessThan(50_000);
  }, 70_000);
});
