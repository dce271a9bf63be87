import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { secretsManager as applicationClient } from '../../lib/aws/secrets-manager-client.js';
import { ConfigurationError } from '../../lib/core/errors.js';
import { SecretsUnavailableError } from '../../lib/pam/pam-errors.js';
import { forgetCachedSecret, loadPamConnection, type PamConnection, parsePamSecret } from '../../lib/pam/pam-secret.js';

const secret = {
  base_url: 'https://pam.corp.example/',
  consumer_key: 'ck-9f2e1d',
  consumer_secret: 'cs-SUPERSECRET-1',
  token_key: 'tk-77aa10',
  token_secret: 'ts-SUPERSECRET-2',
};
const secretValues = [secret.consumer_secret, secret.token_secret, secret.consumer_key, secret.token_key];

const oauth1TokenKey = (connection: PamConnection) =>
  connection.auth.kind === 'oauth1' ? connection.auth.credentials.tokenKey : undefined;

function configError(run: () => unknown): ConfigurationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('parsePamSecret', () => {
  it('reads the documented keys and applies the default paths', () => {
    expect(parsePamSecret('pam/prod', JSON.stringify(secret))).toEqual({
      baseUrl: 'https://pam.corp.example',
      auth: {
        kind: 'oauth1',
        credentials: {
          consumerKey: 'ck-9f2e1d',
          consumerSecret: 'cs-SUPERSECRET-1',
          tokenKey: 'tk-77aa10',
          tokenSecret: 'ts-SUPERSECRET-2',
        },
      },
      caCertificate: undefined,
      listPath: '/api/session/remotesessions',
      dropPath: '/iso/session/drop/{session_id}',
      lookupPath: '/api/session/remotesessions/{id}',
      credentialPath: '/api/pam/credential',
    });
  });

  it('takes the credential API of older versions, and refuses a path ending in "/"', () => {
    expect(
      parsePamSecret('pam/prod', JSON.stringify({ ...secret, credential_path: '/iso/pam/credential' })).credentialPath,
    ).toBe('/iso/pam/credential');
    expect(() =>
      parsePamSecret('pam/prod', JSON.stringify({ ...secret, credential_path: '/iso/pam/credential/' })),
    ).toThrow(/key "credential_path" must not end with "\/"/);
  });

  it('takes the paths of other PAM versions and a private CA', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const connection = parsePamSecret(
      'pam/prod',
      JSON.stringify({
        ...secret,
        list_path: '/api/pam/session/remotesessions',
        drop_path: '/api/pam/session/drop/{session_id}',
        lookup_path: '/api/pam/session/remotesessions/{id}',
        ca_certificate: pem,
      }),
    );
    expect(connection).toMatchObject({
      listPath: '/api/pam/session/remotesessions',
      dropPath: '/api/pam/session/drop/{session_id}',
      lookupPath: '/api/pam/session/remotesessions/{id}',
      caCertificate: pem,
    });
  });

  it.each(['consumer_key', 'consumer_secret', 'token_key', 'token_secret', 'base_url'])(
    'names the missing key %s and no value',
    (key) => {
      const partial: Record<string, string> = { ...secret };
      delete partial[key];
      const error = configError(() => parsePamSecret('pam/prod', JSON.stringify(partial)));
      const hint = key === 'base_url' ? '' : ' (or give client_id and client_secret for OAuth 2.0)';
      expect(error.message).toBe(`Secret "pam/prod": key "${key}" is missing${hint}`);
      for (const value of secretValues) expect(error.message).not.toContain(value);
    },
  );

  it.each([
    [{ token_secret: 42 }, 'key "token_secret" must be a string'],
    [{ consumer_key: '' }, 'key "consumer_key" must not be empty'],
    [
      { base_url: 'http://pam.corp.example' },
      'key "base_url" must be an https:// URL (http:// is accepted only for localhost)',
    ],
    [
      { base_url: 'pam.corp.example' },
      'key "base_url" must be an https:// URL (http:// is accepted only for localhost)',
    ],
    [{ drop_path: '/iso/session/drop/' }, 'key "drop_path" must contain "{session_id}"'],
    [{ lookup_path: '/api/session/remotesessions/' }, 'key "lookup_path" must contain "{id}"'],
    [{ list_path: 'api/session' }, 'key "list_path" must be a path starting with "/"'],
    [{ ca_certificate: 'not a pem' }, 'key "ca_certificate" must be a PEM certificate'],
  ])('refuses %j', (override, message) => {
    expect(configError(() => parsePamSecret('pam/prod', JSON.stringify({ ...secret, ...override }))).message).toBe(
      `Secret "pam/prod": ${message}`,
    );
  });

  it('takes OAuth 2.0 client credentials instead of the four OAuth 1.0a values', () => {
    const connection = parsePamSecret(
      'pam/prod',
      JSON.stringify({ base_url: 'https://pam.corp.example', client_id: 'app-7', client_secret: 'cs-SUPERSECRET-3' }),
    );
    expect(connection.auth).toEqual({ kind: 'oauth2', clientId: 'app-7', clientSecret: 'cs-SUPERSECRET-3' });
  });

  it('names what a half-given OAuth 2.0 secret lacks', () => {
    expect(
      configError(() =>
        parsePamSecret('pam/prod', JSON.stringify({ base_url: 'https://pam.corp.example', client_id: 'app-7' })),
      ).message,
    ).toBe('Secret "pam/prod": key "client_secret" is missing');
  });

  it('asks for one credential set or the other when there is none', () => {
    expect(
      configError(() => parsePamSecret('pam/prod', JSON.stringify({ base_url: 'https://pam.corp.example' }))).message,
    ).toBe(
      'Secret "pam/prod": key "consumer_key" is missing; key "consumer_secret" is missing; key "token_key" is missing; key "token_secret" is missing (or give client_id and client_secret for OAuth 2.0)',
    );
  });

  it('accepts plain HTTP to localhost only', () => {
    expect(parsePamSecret('s', JSON.stringify({ ...secret, base_url: 'http://127.0.0.1:4010' })).baseUrl).toBe(
      'http://127.0.0.1:4010',
    );
    expect(parsePamSecret('s', JSON.stringify({ ...secret, base_url: 'http://localhost:4010' })).baseUrl).toBe(
      'http://localhost:4010',
    );
  });

  it('refuses any other scheme, even to localhost', () => {
    for (const base_url of ['ftp://localhost/', 'ws://127.0.0.1:4010', 'http://pam.corp.example']) {
      expect(configError(() => parsePamSecret('pam/prod', JSON.stringify({ ...secret, base_url }))).message).toBe(
        'Secret "pam/prod": key "base_url" must be an https:// URL (http:// is accepted only for localhost)',
      );
    }
  });

  it('says malformed JSON without quoting it', () => {
    const error = configError(() => parsePamSecret('pam/prod', `{"consumer_secret":"${secret.consumer_secret}",`));
    expect(error.message).toBe('Secret "pam/prod" is not valid JSON');
  });

  it('refuses JSON that is not an object', () => {
    expect(configError(() => parsePamSecret('pam/prod', '["a"]')).message).toBe(
      'Secret "pam/prod": must be a JSON object',
    );
  });
});

/** A refusal as the Secrets Manager client throws it. */
const serviceError = (name: string, message: string) =>
  new SecretsManagerServiceException({ name, $fault: 'client', $metadata: {}, message });

describe('loadPamConnection', () => {
  const secretsManager = mockClient(SecretsManagerClient);

  beforeEach(() => {
    secretsManager.reset();
    forgetCachedSecret();
    process.env.PAM_SECRET_ID = 'pam/prod';
    process.env.AWS_REGION = 'us-east-1';
  });
  afterEach(() => {
    delete process.env.PAM_SECRET_MAX_AGE_SECONDS;
  });

  it('reads the secret named by PAM_SECRET_ID and caches it', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: 'pam/prod' })
      .resolves({ SecretString: JSON.stringify(secret) });
    await loadPamConnection();
    const connection = await loadPamConnection();
    expect(connection.auth.kind === 'oauth1' ? connection.auth.credentials.tokenKey : '').toBe('tk-77aa10');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it("reads through the application's own Secrets Manager client, with its time limits", async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(secret) });
    await loadPamConnection();
    const [call] = secretsManager.commandCalls(GetSecretValueCommand);
    expect(call?.thisValue).toBe(applicationClient);
  });

  it('reads again when forced (after PAM refused the cached credentials)', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify(secret) })
      .resolves({ SecretString: JSON.stringify({ ...secret, token_key: 'tk-rotated' }) });
    expect(oauth1TokenKey(await loadPamConnection())).toBe('tk-77aa10');
    expect(oauth1TokenKey(await loadPamConnection({ forceFetch: true }))).toBe('tk-rotated');
    expect(oauth1TokenKey(await loadPamConnection())).toBe('tk-rotated');
  });

  it('never answers with the previous connection once the secret has become unreadable', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify(secret) })
      .resolves({ SecretString: '{"base_url": ' });
    expect(oauth1TokenKey(await loadPamConnection())).toBe('tk-77aa10');
    await expect(loadPamConnection({ forceFetch: true })).rejects.toThrow(/is not valid JSON/);
    await expect(loadPamConnection()).rejects.toThrow(/is not valid JSON/);
  });

  it('never answers with the previous connection once the secret has no SecretString', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify(secret) })
      .resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });
    expect(oauth1TokenKey(await loadPamConnection())).toBe('tk-77aa10');
    await expect(loadPamConnection({ forceFetch: true })).rejects.toThrow(/has no SecretString/);
    await expect(loadPamConnection()).rejects.toThrow(/has no SecretString/);
  });

  it('honours PAM_SECRET_MAX_AGE_SECONDS=0 as no caching', async () => {
    process.env.PAM_SECRET_MAX_AGE_SECONDS = '0';
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(secret) });
    await loadPamConnection();
    await loadPamConnection();
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('needs PAM_SECRET_ID', async () => {
    delete process.env.PAM_SECRET_ID;
    await expect(loadPamConnection()).rejects.toThrow(/PAM_SECRET_ID is not set/);
  });

  it('says when the secret does not exist', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejects(
        new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }),
      );
    await expect(loadPamConnection()).rejects.toThrow(
      new ConfigurationError('Secret "pam/prod" was not found (check PAM_SECRET_ID and the region)'),
    );
  });

  it('says when the role may not read it', async () => {
    const denied = serviceError('AccessDeniedException', 'User: arn:aws:sts::1:assumed-role/x is not authorized');
    secretsManager.on(GetSecretValueCommand).rejects(denied);
    await expect(loadPamConnection()).rejects.toThrow(
      new ConfigurationError(
        'Secret "pam/prod" could not be read: AccessDeniedException (check the function\'s IAM role and the key policy)',
      ),
    );
  });

  it('tells throttling apart from misconfiguration', async () => {
    const throttled = serviceError('ThrottlingException', 'Rate exceeded');
    secretsManager.on(GetSecretValueCommand).rejects(throttled);
    await expect(loadPamConnection()).rejects.toThrow(SecretsUnavailableError);
  });

  it('keeps what Secrets Manager said behind each error', async () => {
    const missing = new ResourceNotFoundException({ message: 'not found', $metadata: {} });
    secretsManager.on(GetSecretValueCommand).rejects(missing);
    await expect(loadPamConnection()).rejects.toMatchObject({ cause: expect.any(Error) });
    const throttled = serviceError('ThrottlingException', 'Rate exceeded');
    secretsManager.on(GetSecretValueCommand).rejects(throttled);
    forgetCachedSecret();
    const busy = loadPamConnection();
    await expect(busy).rejects.toThrow(
      new SecretsUnavailableError('Secret "pam/prod" could not be read right now: ThrottlingException'),
    );
    await expect(busy).rejects.toMatchObject({ cause: expect.any(Error) });
    const denied = serviceError('AccessDeniedException', 'not authorized');
    secretsManager.on(GetSecretValueCommand).rejects(denied);
    forgetCachedSecret();
    await expect(loadPamConnection()).rejects.toMatchObject({ cause: expect.any(Error) });
  });

  it('reads the secret again once PAM_SECRET_MAX_AGE_SECONDS has passed, and sees a rotation', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse('2026-12-07T10:00:00.000Z'));
    process.env.PAM_SECRET_MAX_AGE_SECONDS = '2';
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify(secret) })
      .resolves({ SecretString: JSON.stringify({ ...secret, token_key: 'tk-rotated' }) });
    expect(oauth1TokenKey(await loadPamConnection())).toBe('tk-77aa10');
    vi.setSystemTime(Date.parse('2026-12-07T10:00:01.500Z'));
    expect(oauth1TokenKey(await loadPamConnection())).toBe('tk-77aa10');
    vi.setSystemTime(Date.parse('2026-12-07T10:00:03.000Z'));
    expect(oauth1TokenKey(await loadPamConnection())).toBe('tk-rotated');
    vi.useRealTimers();
  });

  it('refuses a binary secret', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });
    await expect(loadPamConnection()).rejects.toThrow(/has no SecretString/);
  });
});
