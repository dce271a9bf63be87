import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LocalPam, pamSecretString, startLocalPam } from '../../infra/local/local-pam.js';
import { ValidationError } from '../../lib/core/errors.js';
import {
  activateCredential,
  deactivateCredential,
  listCredentials,
  parseCredentialId,
  releaseCustody,
  takeCustody,
} from '../../lib/pam/credential-api.js';
import { forgetCachedSecret } from '../../lib/pam/pam-secret.js';
import { pamEnvelope, rejectionOf } from '../support/pam-answers.js';

/**
 * The credential API's client against a bare server on loopback that answers what each test says:
 * the list's forms and limits, and custody answers the simulator never gives.
 */
let local: LocalPam;
let server: Server;
let answer: { status: number; body: string | Buffer } = { status: 200, body: '' };
const seen: string[] = [];
const OK = pamEnvelope(200, 'ok', 0);

beforeAll(async () => {
  local = await startLocalPam();
  server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    request.resume();
    response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  local.secrets.putSecret('answerer', pamSecretString(`http://127.0.0.1:${port}`, local.credentials));
});
afterAll(async () => {
  await Promise.all([local.close(), new Promise((resolve) => server.close(resolve))]);
});
beforeEach(() => {
  Object.assign(process.env, local.env, {
    PAM_SECRET_ID: 'answerer',
    PAM_MAX_ATTEMPTS: '1',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  forgetCachedSecret();
  seen.length = 0;
  answer = { status: 200, body: OK };
});

const listing = (key: string, entries: unknown[]) =>
  JSON.stringify({ response: { status: 200, message: '', error: false, error_code: 0 }, [key]: entries });

describe("a credential's id", () => {
  it('is PAM’s numeric id, as text or as a number, and nothing else', () => {
    expect(parseCredentialId('41')).toBe('41');
    expect(parseCredentialId(41)).toBe('41');
    for (const value of ['4a', '', '4.5', 4.5, '1'.repeat(19)]) {
      expect(() => parseCredentialId(value)).toThrow(
        new ValidationError('the credential id must be PAM’s numeric id (digits only)'),
      );
    }
    for (const value of [{ id: 41 }, null, true]) {
      expect(() => parseCredentialId(value)).toThrow(new ValidationError('the credential id must be a string'));
    }
  });
});

describe("PAM's credential list", () => {
  it.each(['credentials', 'credential', 'credenciais'])('is read under "%s"', async (key) => {
    answer = { status: 200, body: listing(key, [{ id: 41, username: 'root', hostname: 'db01', ip: '10.66.50.9' }]) };
    expect(await listCredentials()).toEqual([{ id: '41', username: 'root', hostname: 'db01', ip: '10.66.50.9' }]);
    expect(seen).toEqual(['GET /api/pam/credential']);
  });

  it('skips entries without a username, and keeps a blank hostname or address as none', async () => {
    answer = {
      status: 200,
      body: listing('credentials', [
        { id: '40', username: null, hostname: 'db01', ip: '10.66.50.9' },
        { id: '41', hostname: 'db01', ip: '10.66.50.9' },
        { id: 42, username: 1001, hostname: ' db02 ', ip: '  ' },
        { id: '43', username: 'oracle', hostname: '', ip: null },
        { id: '44', username: 'svc', ip: ' 10.66.50.11 ' },
        { username: 'no-id' },
      ]),
    };
    expect(await listCredentials()).toEqual([
      { id: '42', username: '1001', hostname: 'db02', ip: null },
      { id: '43', username: 'oracle', hostname: null, ip: null },
      { id: '44', username: 'svc', hostname: null, ip: '10.66.50.11' },
    ]);
  });

  it('without its array is a bad response, not an empty list', async () => {
    answer = { status: 200, body: listing('items', []) };
    expect(await rejectionOf(listCredentials())).toMatchObject({
      kind: 'bad_response',
      retryable: false,
      message: 'PAM Core answered the credential list without a credentials array',
    });
  });

  it('is refused beyond 32 MiB, not read whole', async () => {
    const bare = listing('credentials', []);
    answer = { status: 200, body: `${bare.slice(0, -1)},"pad":"${'x'.repeat(32 * 1024 * 1024)}"}` };
    expect(await rejectionOf(listCredentials())).toMatchObject({
      kind: 'bad_response',
      retryable: false,
      status: 200,
      message: "PAM Core's credential list is larger than 33554432 bytes",
    });
  });
});

describe('custody', () => {
  it('is taken and released, and the credential deactivated and activated, at their paths', async () => {
    await takeCustody('41');
    await releaseCustody('41');
    await deactivateCredential('41');
    await activateCredential('41');
    expect(seen).toEqual([
      'GET /api/pam/credential/41',
      'DELETE /api/pam/credential/custody/41',
      'DELETE /api/pam/credential/41',
      'PUT /api/pam/credential/41',
    ]);
  });

  it('answered with a body that is not PAM’s envelope is refused without quoting it', async () => {
    answer = { status: 200, body: '{"password":"Sup3r-S3cret' };
    const broken = await rejectionOf(takeCustody('41'));
    expect(broken).toMatchObject({
      kind: 'bad_response',
      status: 200,
      retryable: false,
      message: 'PAM Core answered custody with HTTP 200 and a body that is not its JSON envelope',
    });
    expect(JSON.stringify(broken)).not.toContain('Sup3r');
    answer = { status: 401, body: '<html>Unauthorized</html>' };
    expect(await rejectionOf(takeCustody('41'))).toMatchObject({ kind: 'unauthorized', status: 401, retryable: false });
  });

  it('wipes the bytes of the answer, which hold the password, once the envelope is checked', async () => {
    const password = 'Sup3r-S3cret-9f1c';
    answer = { status: 200, body: `${OK.slice(0, -1)},"password":"${password}"}` };
    const wiped: Buffer[] = [];
    const fill = Buffer.prototype.fill;
    const spy = vi.spyOn(Buffer.prototype, 'fill').mockImplementation(function (this: Buffer, ...args) {
      const result = fill.apply(this, args as Parameters<typeof fill>);
      if (args[0] === 0) wiped.push(this);
      return result;
    });
    try {
      await takeCustody('41');
    } finally {
      spy.mockRestore();
    }
    const whole = wiped.find((buffer) => buffer.length === Buffer.byteLength(answer.body));
    expect(whole).toBeDefined();
    expect(whole?.every((byte) => byte === 0)).toBe(true);
  });

  it("passes on PAM's refusal of custody", async () => {
    answer = { status: 400, body: pamEnvelope(400, 'Credential not found', 1007) };
    expect(await rejectionOf(takeCustody('41'))).toMatchObject({ kind: 'rejected', pamErrorCode: 1007 });
  });

  it('is read up to exactly 32 MiB, and not beyond, even when the answer would parse', async () => {
    const padded = (size: number) => {
      const head = `${OK.slice(0, -1)},"pad":"`;
      return Buffer.from(`${head}${'x'.repeat(size - head.length - 2)}"}`);
    };
    answer = { status: 200, body: padded(32 * 1024 * 1024) };
    await expect(takeCustody('41')).resolves.toBeUndefined();
    answer = { status: 200, body: padded(32 * 1024 * 1024 + 1) };
    expect(await rejectionOf(takeCustody('41'))).toMatchObject({ kind: 'bad_response' });
  });
});
