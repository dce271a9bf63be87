import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../infra/local/lambda-events.js';
import { type LocalPam, pamSecretString, startLocalPam } from '../../infra/local/local-pam.js';
import { type SecretsExtensionStandIn, startSecretsExtensionStandIn } from '../../infra/local/secrets-extension.js';
import { forgetCachedSecret, loadPamConnection } from '../../lib/pam/pam-secret.js';
import { type Handler, loadHandler } from '../support/handlers.js';

let local: LocalPam;
let extension: SecretsExtensionStandIn;
let strictExtension: SecretsExtensionStandIn;
let drop: Handler;

const nextActive = (() => {
  const used = new Set<string>();
  return () => {
    const session = local.pam.sessions.find((candidate) => candidate.end === null && !used.has(candidate.session_id));
    if (!session) throw new Error('no active session left in the simulator');
    used.add(session.session_id);
    return session.session_id;
  };
})();

beforeAll(async () => {
  local = await startLocalPam();
  // The functions' environment has no session token here: the extension expects what the function sends.
  extension = await startSecretsExtensionStandIn({ secretsManagerUrl: local.secrets.url, sessionToken: '' });
  strictExtension = await startSecretsExtensionStandIn({ secretsManagerUrl: local.secrets.url, sessionToken: 'x' });
  Object.assign(process.env, local.env, { EXPORT_BUCKET: '' });
  drop = await loadHandler('drop');
});

afterAll(async () => {
  delete process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT;
  await Promise.all([local.close(), extension.close(), strictExtension.close()]);
});

beforeEach(() => forgetCachedSecret());

const usePort = (port: number) => {
  process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(port);
};

describe('the AWS Parameters and Secrets Lambda Extension', () => {
  it('gives the drop its secret: Secrets Manager is asked by the extension only, and the session is cut', async () => {
    usePort(extension.port);
    const readsBefore = local.secrets.reads;
    const fetchesBefore = extension.fetches;
    const id = nextActive();
    await expect(drop({ session_id: id }, lambdaContext())).resolves.toMatchObject({
      session_id: id,
      status: 'terminated',
    });
    expect(extension.requests).toBeGreaterThan(0);
    expect(local.secrets.reads - readsBefore).toBe(extension.fetches - fetchesBefore);
  });

  it('keeps answering from its cache: a second cold read asks Secrets Manager nothing', async () => {
    usePort(extension.port);
    const readsBefore = local.secrets.reads;
    const id = nextActive();
    await expect(drop({ session_id: id }, lambdaContext())).resolves.toMatchObject({ status: 'terminated' });
    expect(local.secrets.reads).toBe(readsBefore);
  });

  it('falls back to Secrets Manager when the extension refuses the request (here: another session token)', async () => {
    usePort(strictExtension.port);
    const readsBefore = local.secrets.reads;
    const id = nextActive();
    await expect(drop({ session_id: id }, lambdaContext())).resolves.toMatchObject({ status: 'terminated' });
    expect(strictExtension.fetches).toBe(0);
    expect(local.secrets.reads).toBe(readsBefore + 1);
  });

  it('falls back to Secrets Manager when nothing listens on the port (a region without the layer)', async () => {
    const closed = await startSecretsExtensionStandIn({ secretsManagerUrl: local.secrets.url, sessionToken: '' });
    await closed.close();
    usePort(closed.port);
    const readsBefore = local.secrets.reads;
    const id = nextActive();
    await expect(drop({ session_id: id }, lambdaContext())).resolves.toMatchObject({ status: 'terminated' });
    expect(local.secrets.reads).toBe(readsBefore + 1);
  });

  it('is not asked again after a forced read: the value it holds may be the one that read replaced', async () => {
    usePort(extension.port);
    const good = pamSecretString(local.pam.url, local.credentials);
    await loadPamConnection();
    local.secrets.putSecret(local.secretId, '{"base_url": ');
    try {
      await expect(loadPamConnection({ forceFetch: true })).rejects.toThrow(/is not valid JSON/);
      const requestsBefore = extension.requests;
      await expect(loadPamConnection()).rejects.toThrow(/is not valid JSON/);
      expect(extension.requests).toBe(requestsBefore);
    } finally {
      local.secrets.putSecret(local.secretId, good);
    }
  });

  it('refuses a port that is not one, naming the variable', async () => {
    process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = '70000';
    await expect(drop({ session_id: nextActive() }, lambdaContext())).rejects.toThrow(
      /PARAMETERS_SECRETS_EXTENSION_HTTP_PORT must be a whole number from 1 to 65535/,
    );
  });
});
