import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext, listEvent } from '../../infra/local/lambda-events.js';
import { type LocalPam, pamSecretString, startLocalPam } from '../../infra/local/local-pam.js';
import { readText, send } from '../../lib/pam/http-transport.js';
import { forgetCachedSecret } from '../../lib/pam/pam-secret.js';
import { requestTarget } from '../../lib/pam/request-target.js';
import { type Handler, loadHandler } from '../support/handlers.js';
import { asJson } from '../support/json-result.js';
import { makePrivateCa, type PrivateCa } from '../support/private-ca.js';

let ca: PrivateCa;
let rightName: LocalPam;
let wrongName: LocalPam;
/** Serves OAuth 2.0 (its token endpoint too) over TLS. */
let withTokens: LocalPam;
let list: Handler;
const client = { clientId: 'pam-session-responder', clientSecret: 'oauth2-tls-client-secret-5b2d' };

// One secret stand-in serves the test; each case points the secret at one of the HTTPS simulators.
function useSecret(pam: LocalPam, caCertificate?: string) {
  rightName.secrets.putSecret(
    rightName.secretId,
    pamSecretString(pam.pam.url, pam.credentials, caCertificate ? { ca_certificate: caCertificate } : {}),
  );
  forgetCachedSecret();
}

beforeAll(async () => {
  ca = makePrivateCa();
  rightName = await startLocalPam({ tls: ca.serverFor('localhost') });
  wrongName = await startLocalPam({ tls: ca.serverFor('pam.other.example') });
  withTokens = await startLocalPam({ tls: ca.serverFor('localhost'), clientCredentials: client });
  Object.assign(process.env, rightName.env, { PAM_MAX_ATTEMPTS: '2', PAM_RETRY_BASE_DELAY_MS: '5' });
  list = await loadHandler('list');
});

afterAll(async () => {
  delete process.env.PAM_MAX_ATTEMPTS;
  await Promise.all([rightName.close(), wrongName.close(), withTokens.close()]);
});

afterEach(() => {
  rightName.pam.requests.length = 0;
});

describe('a PAM Core with a certificate from a private CA', () => {
  it("is trusted through the secret's ca_certificate", async () => {
    useSecret(rightName, ca.caPem);
    const { statusCode, body } = asJson(await list(listEvent(), lambdaContext()));
    expect(statusCode).toBe(200);
    expect(body.count).toBe(rightName.pam.sessions.length);
    expect(rightName.pam.url).toMatch(/^https:\/\/localhost:/);
  });

  it('gets its OAuth 2.0 token over TLS too, trusting the same CA', async () => {
    rightName.secrets.putSecret(
      rightName.secretId,
      JSON.stringify({
        base_url: withTokens.pam.url,
        client_id: client.clientId,
        client_secret: client.clientSecret,
        ca_certificate: ca.caPem,
      }),
    );
    forgetCachedSecret();
    const { statusCode, body } = asJson(await list(listEvent(), lambdaContext()));
    expect(statusCode).toBe(200);
    expect(body.count).toBe(withTokens.pam.sessions.length);
    expect(withTokens.pam.tokensIssued).toBe(1);
  });

  it('is refused without it, with a message saying what to do, and no retry', async () => {
    useSecret(rightName);
    const { statusCode, body } = asJson(await list(listEvent(), lambdaContext()));
    expect(statusCode).toBe(502);
    expect(body.error.code).toBe('pam_tls');
    expect(body.error.message).toMatch(
      /^TLS verification of the PAM Core failed \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\); if it uses a private CA, put that CA in the secret's ca_certificate$/,
    );
    expect(rightName.pam.requests).toHaveLength(0);
  });

  it('is refused when the certificate names another host, even with the CA trusted', async () => {
    useSecret(wrongName, ca.caPem);
    const { statusCode, body } = asJson(await list(listEvent(), lambdaContext()));
    expect(statusCode).toBe(502);
    expect(body.error).toMatchObject({
      code: 'pam_tls',
      message: expect.stringContaining('ERR_TLS_CERT_ALTNAME_INVALID'),
    });
    expect(wrongName.pam.requests).toHaveLength(0);
  });

  it('does not trust an unrelated CA', async () => {
    useSecret(rightName, makePrivateCa().caPem);
    expect(asJson(await list(listEvent(), lambdaContext())).body.error.code).toBe('pam_tls');
  });
});

describe('connections to the PAM Core over TLS', () => {
  it('are kept alive: calls one after another share one TLS connection', async () => {
    const { key, cert } = ca.serverFor('localhost');
    const server = createHttpsServer({ key, cert }, (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"response":{"status":200}}');
    });
    let handshakes = 0;
    server.on('secureConnection', () => {
      handshakes += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const target = requestTarget(
      `https://localhost:${(server.address() as AddressInfo).port}`,
      '/api/session/remotesessions',
    );
    try {
      for (let call = 0; call < 3; call += 1) {
        const response = await send(target, {
          method: 'GET',
          headers: {},
          timeoutMs: 5_000,
          // A CA text no other test uses: a connection pool of this test's own.
          caCertificate: `${ca.caPem}\n`,
        });
        expect(await readText(response.body)).toBe('{"response":{"status":200}}');
      }
      expect(handshakes).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
