import { createServer } from 'node:http';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeServer, listenOnLoopback } from '../../infra/local/loopback-server.js';
import { ConfigurationError, SecretsUnavailableError } from '../../lib/core/errors.js';
import { environmentCredentials } from '../../lib/core/settings.js';
import { forgetCachedSecret, loadPamConnection } from '../../lib/pam/pam-secret.js';
import { jsonApiStandIn, type Received } from '../support/json-api-stand-in.js';
import { EXAMPLE_CREDENTIALS, resignedAuthorization, stubLambdaCredentials } from '../support/sigv4-gateway.js';

const SECRET = {
  base_url: 'https://pam.corp.example',
  consumer_key: 'ck-9f2e1d',
  consumer_secret: 'cs-SUPERSECRET-1',
  token_key: 'tk-77aa10',
  token_secret: 'ts-SUPERSECRET-2',
};

/** A loopback Secrets Manager: the secret unless a reply is queued. */
const api = jsonApiStandIn(() => ({ Name: 'pam/prod', SecretString: JSON.stringify(SECRET) }));
const received = api.received;
let port = 0;
/** Fails the test if the SDK client is used: these reads must not load it. */
const sdk = mockClient(SecretsManagerClient);

beforeAll(async () => {
  port = await api.listen();
});
beforeEach(() => {
  forgetCachedSecret();
  sdk.reset();
  sdk.on(GetSecretValueCommand).rejects(new Error('the Secrets Manager client was used'));
  vi.stubEnv('PAM_SECRET_ID', 'pam/prod');
  stubLambdaCredentials('eu-central-1', {
    variable: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
    url: `http://127.0.0.1:${port}`,
  });
});
afterEach(() => {
  vi.unstubAllEnvs();
  api.reset();
});
afterAll(async () => {
  sdk.restore();
  await api.close();
});

const failure = (status: number, type: string) => ({ status, body: { __type: type, message: `Simulated ${type}` } });

describe("the PAM secret read with GetSecretValue over Node's HTTP client", () => {
  it('signs the JSON 1.1 call for secretsmanager in the function region, with the session token', async () => {
    const connection = await loadPamConnection();
    expect(connection.auth).toMatchObject({ kind: 'oauth1', credentials: { tokenKey: 'tk-77aa10' } });
    const [call] = received as [Received];
    expect(call.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(call.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(call.headers['x-amz-security-token']).toBe('token-for-the-test');
    expect(JSON.parse(call.body)).toEqual({ SecretId: 'pam/prod' });
    const signer = {
      service: 'secretsmanager' as const,
      region: 'eu-central-1',
      credentials: EXAMPLE_CREDENTIALS,
      port,
    };
    expect(call.headers.authorization).toBe(await resignedAuthorization({ ...call, method: 'POST' }, signer));
    expect(call.headers.authorization).not.toBe(
      await resignedAuthorization({ ...call, method: 'POST' }, { ...signer, service: 'events' }),
    );
    expect(sdk.calls()).toHaveLength(0);
    // Held while fresh: the next termination does not ask again.
    await loadPamConnection();
    expect(received).toHaveLength(1);
  });

  it('sends again after throttling or a failure of its own, three times at most', async () => {
    api.answerNext(failure(500, 'InternalServiceError'), failure(400, 'ThrottlingException'));
    await loadPamConnection();
    expect(received).toHaveLength(3);
    received.length = 0;
    forgetCachedSecret();
    api.answerNext(...[1, 2, 3].map(() => failure(400, 'com.amazonaws.secretsmanager#ThrottlingException')));
    const error = await loadPamConnection().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SecretsUnavailableError);
    expect((error as Error).message).toBe('Secret "pam/prod" could not be read right now: ThrottlingException');
    expect(received).toHaveLength(3);
  });

  it('does not send again what only an operator can fix, and says what it is', async () => {
    api.answerNext(failure(400, 'AccessDeniedException'));
    const denied = await loadPamConnection().catch((caught: unknown) => caught);
    expect(denied).toBeInstanceOf(ConfigurationError);
    expect((denied as Error).message).toMatch(/AccessDeniedException \(check the function's IAM role/);
    api.answerNext(failure(400, 'ResourceNotFoundException'));
    await expect(loadPamConnection()).rejects.toThrow('Secret "pam/prod" was not found');
    expect(received).toHaveLength(2);
  });

  it('refuses a binary secret', async () => {
    api.answerNext({ status: 200, body: { Name: 'pam/prod', SecretBinary: 'AQID' } });
    await expect(loadPamConnection()).rejects.toThrow(/has no SecretString/);
  });

  it('gives up by the deadline when Secrets Manager does not answer, and says so', async () => {
    const silent = createServer(() => undefined);
    const silentPort = await listenOnLoopback(silent);
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', `http://127.0.0.1:${silentPort}`);
    try {
      const started = Date.now();
      const error = await loadPamConnection({ deadline: started + 700 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SecretsUnavailableError);
      expect((error as Error).message).toBe('Secret "pam/prod" could not be read right now: TimeoutError');
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      silent.closeAllConnections();
      await closeServer(silent);
    }
  });

  it('reads no AWS_ENDPOINT_URL* when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true, as the SDK', () => {
    vi.stubEnv('AWS_ENDPOINT_URL', 'http://127.0.0.1:9');
    expect(environmentCredentials()).toMatchObject({ secretsManagerEndpoint: `http://127.0.0.1:${port}` });
    vi.stubEnv('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', 'true');
    expect(environmentCredentials()).toMatchObject({
      s3Endpoint: undefined,
      eventBridgeEndpoint: undefined,
      secretsManagerEndpoint: undefined,
    });
  });

  it.each([
    ['no credentials are in the environment', { AWS_ACCESS_KEY_ID: '' }],
    ['FIPS endpoints are asked for, even beside a configured endpoint', { AWS_USE_FIPS_ENDPOINT: 'true' }],
    ['the partition is not one it knows', { AWS_ENDPOINT_URL_SECRETS_MANAGER: '', AWS_REGION: 'us-iso-east-1' }],
  ])('leaves the read to the Secrets Manager client when %s', async (_case, variables) => {
    for (const [name, value] of Object.entries(variables)) vi.stubEnv(name, value);
    sdk.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(SECRET) });
    await loadPamConnection();
    expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(received).toHaveLength(0);
  });
});
