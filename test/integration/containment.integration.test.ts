import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpApiEvent, lambdaContext, siemTerminationRequest } from '../../infra/local/lambda-events.js';
import { type LocalPam, startLocalPam } from '../../infra/local/local-pam.js';
import { containCredentials } from '../../lib/containment/contain-credentials.js';
import { forgetCredentialList } from '../../lib/containment/credential-lookup.js';
import { terminationSettings } from '../../lib/core/settings.js';
import { emfRecords } from '../support/emf.js';
import { eventFixture } from '../support/fixtures.js';
import { type Handler, loadHandler } from '../support/handlers.js';
import { asJson } from '../support/json-result.js';
import { resetLocalPam } from '../support/local-reset.js';
import { captureOutput } from '../support/output-capture.js';

let local: LocalPam;
let drop: Handler;
let credentials: Handler;
const output = captureOutput();
const SETTINGS = [
  'MAX_CREDENTIALS_PER_REQUEST',
  'QUARANTINE_MINUTES',
  'PROTECTED_CREDENTIALS',
  'DRY_RUN',
  'CONTAIN_ON_FINDINGS',
];

/** aoliveira's open ssh session as root on 10.66.50.9 (seed 6), and as ec2-user on 10.66.50.10 (seed 7). */
const ROOT_SESSION = 'e7079c4837b794864e25f7880b1626416596ee80';
const EC2_USER_SESSION = '124244e39e20af3627603c99134daff67dbf75f5';

beforeAll(async () => {
  local = await startLocalPam({
    // The schedule's target is the credentials function, run here as Lambda would.
    invokeSchedule: (_arn, input) => credentials(input, lambdaContext({ functionName: 'credentials' })),
  });
  Object.assign(process.env, local.env, { PAM_RETRY_BASE_DELAY_MS: '5', PROTECTED_USERS: 'break_glass' });
  drop = await loadHandler('drop');
  credentials = await loadHandler('credentials');
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  await resetLocalPam(local);
  forgetCredentialList();
});

afterEach(() => {
  for (const name of SETTINGS) delete process.env[name];
});

const request = (id: string, detail: Record<string, unknown>) =>
  siemTerminationRequest(id, { reason: 'credential dump seen by the SIEM', ...detail });
const credentialOf = (username: string, ip: string) => {
  // The simulator derives its credentials from the sessions on the first call; make sure it has.
  const found = local.pam.credentialApi.credentials.find((c) => c.username === username && c.ip === ip);
  if (!found) throw new Error(`no simulated credential ${username}@${ip}`);
  return found;
};
const credentialCalls = () =>
  local.pam.requests.filter((r) => r.endpoint === 'credential').map((r) => `${r.method} ${r.path} ${r.status}`);
const audited = (detailType: string) => local.eventBridge.events.filter((e) => e['detail-type'] === detailType);
const manual = (id: string, action: 'reactivate' | 'quarantine', body: Record<string, unknown>) => {
  const event = httpApiEvent({
    method: 'POST',
    routeKey: `POST /credentials/{id}/${action}`,
    rawPath: `/credentials/${id}/${action}`,
    pathParameters: { id },
  });
  return { ...event, body: JSON.stringify(body), headers: { ...event.headers, 'content-type': 'application/json' } };
};

describe('rotate', () => {
  it('takes and releases custody of the terminated session’s credential, and PAM changes its password', async () => {
    const report = await drop(eventFixture('termination-request-contain'), lambdaContext());
    expect(report.outcomes.map((o: { outcome: string; message?: string }) => o.message ?? o.outcome)).toEqual([
      'terminated',
    ]);
    const root = credentialOf('root', '10.66.50.9');
    expect(root.rotations).toBe(1);
    expect(root.active).toBe(false);
    expect(credentialCalls()).toEqual([
      'GET /api/pam/credential 200',
      `GET /api/pam/credential/${root.id} 200`,
      `DELETE /api/pam/credential/custody/${root.id} 200`,
      `DELETE /api/pam/credential/${root.id} 200`,
    ]);
    expect(
      report.containment.outcomes.map((o: { action: string; outcome: string }) => `${o.action} ${o.outcome}`),
    ).toEqual(['rotate rotated', 'deactivate quarantined']);
    expect(report.containment.outcomes[0]).toMatchObject({
      credential: { id: root.id, username: 'root', device: '10.66.50.9' },
      session_ids: [ROOT_SESSION],
    });
    expect(audited('PAM Credential Rotated')).toHaveLength(1);
    expect(audited('PAM Credential Quarantined')).toHaveLength(1);
    const metrics = emfRecords(output.text())
      .filter((record) => 'CredentialRotated' in record.values)
      .at(-1);
    expect(metrics?.values).toMatchObject({ CredentialRotated: 1, CredentialQuarantined: 1 });
    expect(metrics?.values.TimeToContain).toEqual([expect.any(Number), expect.any(Number)]);
  });

  it('rotates only, when only rotation is asked: the credential stays active', async () => {
    const report = await drop(
      request('rotate-only', { session_id: EC2_USER_SESSION, contain: 'rotate' }),
      lambdaContext(),
    );
    const ec2 = credentialOf('ec2-user', '10.66.50.10');
    expect(ec2).toMatchObject({ rotations: 1, active: true, inCustody: false });
    expect(report.containment.summary).toEqual({ rotated: 1 });
    expect(local.scheduler.calls).toEqual([]);
  });

  it('changes nothing without contain: the termination alone, as before', async () => {
    const report = await drop(request('no-contain', { session_id: EC2_USER_SESSION }), lambdaContext());
    expect(report.containment).toBeUndefined();
    expect(credentialCalls()).toEqual([]);
  });
});

describe('deactivate and the scheduled reactivation', () => {
  it('deactivates, schedules a one-time reactivation after QUARANTINE_MINUTES, and the schedule reactivates it', async () => {
    process.env.QUARANTINE_MINUTES = '30';
    const before = Date.now();
    const report = await drop(
      request('quarantine', { session_id: EC2_USER_SESSION, contain: 'deactivate' }),
      lambdaContext(),
    );
    const ec2 = credentialOf('ec2-user', '10.66.50.10');
    expect(ec2.active).toBe(false);
    const [outcome] = report.containment.outcomes;
    expect(outcome).toMatchObject({ action: 'deactivate', outcome: 'quarantined' });
    const runAt = Date.parse(outcome.reactivate_at);
    expect(runAt - before).toBeGreaterThanOrEqual(30 * 60_000);
    expect(runAt - before).toBeLessThan(31 * 60_000);
    const [schedule] = [...local.scheduler.schedules.values()];
    expect(schedule).toMatchObject({
      name: `reactivate-credential-${ec2.id}`,
      group: 'pam-session-responder-local',
      expression: `at(${outcome.reactivate_at.slice(0, 19)})`,
      timezone: 'UTC',
      actionAfterCompletion: 'DELETE',
      target: {
        Arn: 'arn:aws:lambda:us-east-1:000000000000:function:pam-session-responder-local-credentials',
        RoleArn: 'arn:aws:iam::000000000000:role/pam-session-responder-local-reactivation',
      },
    });
    // Not due a minute before its time; due at it.
    expect(await local.scheduler.fireDue(runAt - 60_000)).toEqual([]);
    const fired = await local.scheduler.fireDue(runAt);
    expect(fired.map((f) => f.result)).toEqual([
      expect.objectContaining({ credential_id: ec2.id, action: 'reactivate', outcome: 'reactivated' }),
    ]);
    expect(ec2.active).toBe(true);
    expect(local.scheduler.schedules.size).toBe(0);
    expect(audited('PAM Credential Reactivated')[0]?.detail).toMatchObject({
      requested_by: 'scheduler',
      trigger: { source: 'aws.scheduler' },
    });
  });

  it('a scheduled reactivation whose audit could not be published fails, for Lambda to retry it', async () => {
    await drop(request('audit-lost', { session_id: EC2_USER_SESSION, contain: 'deactivate' }), lambdaContext());
    const ec2 = credentialOf('ec2-user', '10.66.50.10');
    // PutEvents refuses the entry on each of the audit's 4 attempts.
    local.eventBridge.refuseEntries(4);
    await expect(local.scheduler.fireDue()).rejects.toThrow(/was reactivated, but its audit event was not published/);
    expect(ec2.active).toBe(true);
  });

  it('makes no schedule with QUARANTINE_MINUTES=0: only a human reactivates it', async () => {
    process.env.QUARANTINE_MINUTES = '0';
    const report = await drop(
      request('by-hand', { session_id: EC2_USER_SESSION, contain: 'deactivate' }),
      lambdaContext(),
    );
    expect(report.containment.outcomes[0]).toMatchObject({ outcome: 'quarantined', reactivate_at: null });
    expect(local.scheduler.calls).toEqual([]);
  });
});

describe('by hand: POST /credentials/{id}/reactivate and /quarantine', () => {
  it('reactivates a quarantined credential, deletes its schedule, and audits the caller', async () => {
    await drop(request('to-reactivate', { session_id: EC2_USER_SESSION, contain: 'deactivate' }), lambdaContext());
    const ec2 = credentialOf('ec2-user', '10.66.50.10');
    const response = asJson(
      await credentials(manual(ec2.id, 'reactivate', { reason: 'false positive, SOC-1182' }), lambdaContext()),
    );
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatchObject({ credential_id: ec2.id, outcome: 'reactivated' });
    expect(ec2.active).toBe(true);
    expect(local.scheduler.schedules.size).toBe(0);
    expect(audited('PAM Credential Reactivated')[0]?.detail).toMatchObject({
      reason: 'false positive, SOC-1182',
      requested_by: 'arn:aws:sts::123456789012:assumed-role/SocAnalyst/soc-analyst',
      trigger: { caller: 'arn:aws:sts::123456789012:assumed-role/SocAnalyst/soc-analyst' },
    });
  });

  it('extends a quarantine: the credential stays inactive and its reactivation moves', async () => {
    await drop(request('to-extend', { session_id: EC2_USER_SESSION, contain: 'deactivate' }), lambdaContext());
    const ec2 = credentialOf('ec2-user', '10.66.50.10');
    const response = asJson(
      await credentials(manual(ec2.id, 'quarantine', { reason: 'under investigation', minutes: 240 }), lambdaContext()),
    );
    expect(response.body).toMatchObject({ outcome: 'already_quarantined' });
    expect(Date.parse(response.body.reactivate_at) - Date.now()).toBeGreaterThan(239 * 60_000);
    expect(local.scheduler.calls.map((c) => c.operation)).toEqual([
      'CreateSchedule',
      'DeleteSchedule',
      'CreateSchedule',
    ]);
    expect(local.scheduler.schedules.size).toBe(1);
    expect(ec2.active).toBe(false);
  });

  it('answers 404 for a credential PAM does not know (1007) and 400 for an id that is not PAM’s', async () => {
    const unknown = asJson(await credentials(manual('999999', 'reactivate', { reason: 'x' }), lambdaContext()));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body.error.code).toBe('credential_not_found');
    const invalid = asJson(
      await credentials(manual('root@10.66.50.9', 'reactivate', { reason: 'x' }), lambdaContext()),
    );
    expect(invalid.statusCode).toBe(400);
    expect(credentialCalls()).toEqual(['PUT /api/pam/credential/999999 400']);
  });
});

describe('guardrails', () => {
  it('never contains a protected credential: its session is not terminated, so nothing is asked of PAM', async () => {
    process.env.PROTECTED_CREDENTIALS = 'ec2-user';
    const report = await drop(
      request('protected', { session_id: EC2_USER_SESSION, contain: ['rotate', 'deactivate'] }),
      lambdaContext(),
    );
    expect(report.summary).toEqual({ skipped_protected: 1 });
    expect(report.containment.outcomes).toEqual([]);
    expect(credentialCalls()).toEqual([]);
  });

  it('checks protection again itself, whatever report it is handed', async () => {
    // Through drop a protected session is never terminated; containCredentials does not rely on that.
    const facts = {
      id: '8',
      user: 'aoliveira',
      origin_ip: '203.0.113.77',
      device: '10.66.50.10:22',
      credential: 'ec2-user',
      protocol: 'ssh',
    };
    const report = {
      reason: 'r',
      requested_by: null,
      dry_run: false,
      trigger: { event_id: 'e', source: 'soar.example', detail_type: 'PAM Session Termination Requested' },
      outcomes: [
        {
          session_id: EC2_USER_SESSION,
          outcome: 'terminated' as const,
          session: facts,
          resolved_from: 'index' as const,
          index_age_ms: 0,
          event_age_ms: 1,
        },
      ],
      summary: { terminated: 1 },
      audit: { published: 1, failed: 0 },
    };
    const settings = { ...terminationSettings(), protectedCredentials: ['ec2-user'] };
    const contained = await containCredentials(
      {
        sessionIds: [],
        criteria: [],
        reason: 'r',
        requestedBy: undefined,
        dryRun: false,
        trigger: report.trigger,
        contain: ['rotate'],
      },
      report,
      settings,
      {},
    );
    expect(contained?.outcomes.map((o) => o.outcome)).toEqual(['skipped_protected']);
    expect(credentialOf('ec2-user', '10.66.50.10').rotations).toBe(0);
  });

  it('contains nothing over MAX_CREDENTIALS_PER_REQUEST, and tells a human', async () => {
    process.env.MAX_CREDENTIALS_PER_REQUEST = '1';
    const report = await drop(
      request('over-cap', { session_ids: [ROOT_SESSION, EC2_USER_SESSION], contain: 'deactivate' }),
      lambdaContext(),
    );
    expect(report.summary).toEqual({ terminated: 2 });
    expect(report.containment.summary).toEqual({ blocked: 2 });
    expect(credentialCalls()).toEqual(['GET /api/pam/credential 200']);
    expect(local.sns.notices.map((n) => n.subject)).toContain(
      'PAM credential containment blocked: 2 credentials over the cap',
    );
  });

  it('in a dry run says what it would do and changes nothing in PAM', async () => {
    const report = await drop(
      request('dry', { session_id: EC2_USER_SESSION, contain: ['deactivate', 'rotate'], dry_run: true }),
      lambdaContext(),
    );
    expect(report.containment.outcomes.map((o: { outcome: string }) => o.outcome)).toEqual([
      'would_rotate',
      'would_deactivate',
    ]);
    expect(credentialCalls()).toEqual(['GET /api/pam/credential 200']);
    expect(local.scheduler.calls).toEqual([]);
  });

  it('contains nothing for a session that was not terminated by this request', async () => {
    local.pam.sessions.find((s) => s.session_id === EC2_USER_SESSION)!.end = '2026-11-23 09:00:00';
    local.pam.sessionsChanged();
    const report = await drop(
      request('ended', { session_id: EC2_USER_SESSION, contain: 'deactivate' }),
      lambdaContext(),
    );
    expect(report.summary).toEqual({ already_ended: 1 });
    expect(report.containment.outcomes).toEqual([]);
    expect(credentialCalls()).toEqual([]);
  });

  it('is not_contained when no single credential matches, never a guess', async () => {
    const ec2 = credentialOf('ec2-user', '10.66.50.10');
    local.pam.credentialApi.add({ username: 'ec2-user', hostname: 'other', ip: '10.66.50.10' });
    const report = await drop(
      request('ambiguous', { session_id: EC2_USER_SESSION, contain: 'rotate' }),
      lambdaContext(),
    );
    expect(report.containment.outcomes[0]).toMatchObject({ outcome: 'not_contained', credential: { id: null } });
    expect(report.containment.outcomes[0].message).toContain(`ids ${ec2.id}, `);
    expect(ec2.rotations).toBe(0);
  });
});

describe('redelivery', () => {
  it('a second run of the same request is safe: 1008 is already quarantined, the schedule is kept', async () => {
    const first = await drop(
      request('twice', { session_id: EC2_USER_SESSION, contain: ['rotate', 'deactivate'] }),
      lambdaContext(),
    );
    const ec2 = credentialOf('ec2-user', '10.66.50.10');
    const schedule = { ...[...local.scheduler.schedules.values()][0] };
    // The session is active again only to run containment a second time, as a redelivery around the records would.
    local.pam.sessions.find((s) => s.session_id === EC2_USER_SESSION)!.end = null;
    local.pam.sessionsChanged();
    await local.s3.clear();
    // Another event asking the same (a redelivery of the same one is answered from the idempotency table).
    const second = await drop(
      request('twice-again', { session_id: EC2_USER_SESSION, contain: ['rotate', 'deactivate'] }),
      lambdaContext(),
    );
    expect(first.containment.summary).toEqual({ rotated: 1, quarantined: 1 });
    expect(second.containment.outcomes.map((o: { outcome: string }) => o.outcome)).toEqual([
      'not_contained',
      'already_quarantined',
    ]);
    expect(ec2.active).toBe(false);
    expect([...local.scheduler.schedules.values()]).toEqual([schedule]);
  });
});

describe('the vendor’s errors', () => {
  const rotateEc2 = () =>
    drop(
      request(`err-${Math.random()}`, { session_id: EC2_USER_SESSION, contain: ['rotate', 'deactivate'] }),
      lambdaContext(),
    );

  it('1007 on custody fails the containment, and the event fails to be retried', async () => {
    const ec2 = credentialOf('ec2-user', '10.66.50.10');
    local.pam.credentialApi.refuse(ec2.id, 1007);
    await expect(rotateEc2()).rejects.toThrow(/1 credential containment\(s\) failed.*1007/);
    expect(ec2.active).toBe(false);
    expect(audited('PAM Credential Containment Failed')[0]?.detail).toMatchObject({
      action: 'rotate',
      outcome: 'failed',
    });
  });

  it("Lambda's retry of an event whose containment failed contains the credential: its session ended by this deployment", async () => {
    const ec2 = credentialOf('ec2-user', '10.66.50.10');
    local.pam.credentialApi.refuse(ec2.id, 1007);
    const event = request('retried', { session_id: EC2_USER_SESSION, contain: 'rotate' });
    await expect(drop(event, lambdaContext())).rejects.toThrow(/1 credential containment\(s\) failed/);
    // The same event again, as Lambda retries it: the failed handling was not kept.
    const retry = await drop(event, lambdaContext());
    expect(retry.outcomes).toEqual([
      expect.objectContaining({
        outcome: 'already_ended',
      }),
    ]);
    expect(retry.containment.outcomes).toEqual([expect.objectContaining({ action: 'rotate', outcome: 'rotated' })]);
  });

  it('a credential list that cannot be read fails every credential, and is asked for once per request', async () => {
    local.pam.credentialApi.failList(10);
    await expect(
      drop(request('no-list', { session_ids: [ROOT_SESSION, EC2_USER_SESSION], contain: 'rotate' }), lambdaContext()),
    ).rejects.toThrow(/2 credential containment\(s\) failed/);
    // PAM_MAX_ATTEMPTS (3) attempts of one read, not one read per session.
    expect(credentialCalls()).toEqual(Array(3).fill('GET /api/pam/credential 503'));
    expect(audited('PAM Credential Containment Failed')).toHaveLength(2);
  });

  it('1009 (no access) and 1039 (no write permission) say what to grant', async () => {
    const ec2 = credentialOf('ec2-user', '10.66.50.10');
    local.pam.credentialApi.refuse(ec2.id, 1009);
    await expect(rotateEc2()).rejects.toThrow(/no access to this credential \(1009\)/);
    local.pam.credentialApi.readOnly = true;
    local.pam.sessions.find((s) => s.session_id === EC2_USER_SESSION)!.end = null;
    local.pam.sessionsChanged();
    await local.s3.clear();
    await expect(rotateEc2()).rejects.toThrow(/lacks PAM write permission \(1039\)/);
  });

  it('1018 on release means custody was already released: rotated', async () => {
    const ec2 = credentialOf('ec2-user', '10.66.50.10');
    local.pam.credentialApi.refuse(ec2.id, 1018, 'release');
    const report = await drop(request('release', { session_id: EC2_USER_SESSION, contain: 'rotate' }), lambdaContext());
    expect(report.containment.outcomes[0]).toMatchObject({
      outcome: 'rotated',
      message: expect.stringContaining('1018'),
    });
  });

  it('1008 on deactivate is already quarantined, not a failure', async () => {
    const ec2 = credentialOf('ec2-user', '10.66.50.10');
    ec2.active = false;
    const report = await drop(
      request('inactive', { session_id: EC2_USER_SESSION, contain: 'deactivate' }),
      lambdaContext(),
    );
    expect(report.containment.outcomes[0]).toMatchObject({ outcome: 'already_quarantined' });
    expect(local.scheduler.calls).toEqual([]);
  });
});

describe('the device named by host, not address', () => {
  it('is matched against the credential’s hostname, case-insensitively', async () => {
    const session = local.pam.sessions.find((s) => s.device === 'vcenter.corp.example:443')!;
    const admin = local.pam.credentialApi.credentials.find((c) => c.hostname === 'VCENTER.CORP.EXAMPLE')!;
    const report = await drop(
      request('by-host', { session_id: session.session_id, contain: 'rotate' }),
      lambdaContext(),
    );
    expect(report.containment.outcomes[0]).toMatchObject({ outcome: 'rotated', credential: { id: admin.id } });
    expect(admin.rotations).toBe(1);
  });
});

describe('findings and direct invocations', () => {
  it('CONTAIN_ON_FINDINGS=rotate rotates the credential of the session a Security Hub finding terminated, and the note says so', async () => {
    process.env.CONTAIN_ON_FINDINGS = 'rotate';
    const report = await drop(eventFixture('securityhub-imported-high'), lambdaContext());
    const sql = credentialOf('CORP\\svc_sql', '10.66.40.21');
    expect(report.containment.summary).toEqual({ rotated: 1 });
    expect(sql.rotations).toBe(1);
    const notes = local.securityHub.updates.map((update) => update.Note?.Text ?? '');
    expect(notes.at(-1)).toMatch(new RegExp(`Terminated: .*Credentials: 1 rotated \\(ids ${sql.id}\\)\\.$`));
    expect(notes.at(-1)?.length).toBeLessThanOrEqual(512);
  });

  it('a finding contains nothing under the default CONTAIN_ON_FINDINGS (none)', async () => {
    const report = await drop(eventFixture('securityhub-imported-high'), lambdaContext());
    expect(report.summary).toEqual({ terminated: 1 });
    expect(report.containment).toBeUndefined();
    expect(credentialCalls()).toEqual([]);
  });

  it('a direct invocation may ask for it too; a bad contain is refused before anything is sent', async () => {
    const response = await drop({ session_id: EC2_USER_SESSION, contain: 'deactivate' }, lambdaContext());
    expect(response).toMatchObject({ status: 'terminated', containment: { summary: { quarantined: 1 } } });
    local.pam.requests.length = 0;
    await expect(drop({ session_id: ROOT_SESSION, contain: 'suspend' }, lambdaContext())).rejects.toThrow(/contain/);
    expect(local.pam.requests).toEqual([]);
  });
});

describe('the password custody hands over', () => {
  it('never appears in a log, a response, an audit event, a schedule or a finding note', async () => {
    process.env.CONTAIN_ON_FINDINGS = 'rotate,deactivate';
    const responses = [
      await drop(eventFixture('termination-request-contain'), lambdaContext()),
      await drop(request('pw', { session_id: EC2_USER_SESSION, contain: 'rotate' }), lambdaContext()),
      await drop(eventFixture('securityhub-imported-high'), lambdaContext()),
    ];
    const sql = credentialOf('CORP\\svc_sql', '10.66.40.21');
    responses.push(await credentials(manual(sql.id, 'reactivate', { reason: 'done' }), lambdaContext()));
    responses.push(...(await local.scheduler.fireDue()).map((fired) => fired.result));
    const passwords = local.pam.credentialApi.passwordsHandedOver;
    expect(passwords).toHaveLength(3);
    const outputs = JSON.stringify([
      responses,
      local.eventBridge.events,
      local.scheduler.calls,
      [...local.scheduler.schedules.values()],
      local.securityHub.updates,
      local.sns.notices,
    ]);
    for (const password of passwords) {
      expect(outputs).not.toContain(password);
      expect(output.text()).not.toContain(password);
    }
  });
});
