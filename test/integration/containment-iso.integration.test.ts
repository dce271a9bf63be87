import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext, siemTerminationRequest } from '../../infra/local/lambda-events.js';
import { type LocalPam, pamSecretString, startLocalPam } from '../../infra/local/local-pam.js';
import { forgetCredentialList } from '../../lib/containment/credential-lookup.js';
import { forgetCachedSecret } from '../../lib/pam/pam-secret.js';
import { type Handler, loadHandler } from '../support/handlers.js';
import { resetLocalPam } from '../support/local-reset.js';

let local: LocalPam;
let drop: Handler;

const OLDER_PATH = '/iso/pam/credential';

// An older PAM Core: the credential API under /iso/pam/credential, named so in the secret's credential_path.
beforeAll(async () => {
  local = await startLocalPam({ credentialPath: OLDER_PATH });
  Object.assign(process.env, local.env, { PAM_RETRY_BASE_DELAY_MS: '5', QUARANTINE_MINUTES: '0' });
  drop = await loadHandler('drop');
});

// Each test from the seeded PAM Core and the secret naming the older path: one may name another.
beforeEach(async () => {
  await resetLocalPam(local);
  local.secrets.putSecret(
    local.secretId,
    pamSecretString(local.pam.url, local.credentials, { credential_path: OLDER_PATH }),
  );
  forgetCachedSecret();
  forgetCredentialList();
});

afterAll(async () => {
  await local.close();
});

describe('the credential API of older versions (/iso/pam/credential)', () => {
  it('lists, takes and releases custody, and deactivates under the path the secret names', async () => {
    const session = local.pam.sessions.find((s) => s.user === 'aoliveira' && s.credential === 'ec2-user');
    const report = await drop(
      siemTerminationRequest('iso', {
        session_id: session?.session_id,
        reason: 'older PAM Core',
        contain: ['rotate', 'deactivate'],
      }),
      lambdaContext(),
    );
    expect(report.containment.summary).toEqual({ rotated: 1, quarantined: 1 });
    const id = local.pam.credentialApi.credentials.find((c) => c.username === 'ec2-user')?.id;
    expect(
      local.pam.requests.filter((r) => r.endpoint === 'credential').map((r) => `${r.method} ${r.path} ${r.status}`),
    ).toEqual([
      'GET /iso/pam/credential 200',
      `GET /iso/pam/credential/${id} 200`,
      `DELETE /iso/pam/credential/custody/${id} 200`,
      `DELETE /iso/pam/credential/${id} 200`,
    ]);
  });

  it('a secret naming the newer path on an older PAM Core gets Kong’s 404: a failure, never a guess', async () => {
    local.secrets.putSecret(local.secretId, pamSecretString(local.pam.url, local.credentials));
    forgetCachedSecret();
    const session = local.pam.sessions.find((s) => s.user === 'jsilva' && s.end === null);
    await expect(
      drop(
        siemTerminationRequest('newer-path', { session_id: session?.session_id, reason: 'r', contain: 'rotate' }),
        lambdaContext(),
      ),
    ).rejects.toThrow(/credential list could not be read.*No route matched/);
    expect(local.pam.requests.at(-1)).toMatchObject({ path: '/api/pam/credential', status: 404 });
  });
});
