import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { containCredentials } from '../../lib/containment/contain-credentials.js';
import { CredentialNotFoundError } from '../../lib/containment/containment-errors.js';
import { CredentialLookup, forgetCredentialList } from '../../lib/containment/credential-lookup.js';
import { actOnCredential, type CredentialRequest } from '../../lib/containment/credential-request.js';
import { quarantineCredential, reactivateCredential } from '../../lib/containment/quarantine.js';
import { refusalMessage, rotateCredential } from '../../lib/containment/rotate.js';
import { ConfigurationError } from '../../lib/core/errors.js';
import { containmentSettings, terminationSettings } from '../../lib/core/settings.js';
import type { PamCredential } from '../../lib/pam/credential-api.js';
import { PamApiError } from '../../lib/pam/pam-errors.js';
import type { Outcome } from '../../lib/termination/outcome.js';
import { TerminationIncompleteError } from '../../lib/termination/termination-errors.js';
import type { TerminationReport } from '../../lib/termination/termination-report.js';
import type { TerminationRequest } from '../../lib/termination/termination-request.js';
import { forgetSent, sent } from '../support/report-sinks.js';

/** PAM's credential API, the scheduler, the records and the report's sinks, as the containment calls them. */
const calls = vi.hoisted(() => ({
  pam: [] as string[],
  list: [] as unknown[],
  refusals: new Map<string, unknown>(),
  schedules: [] as Array<Record<string, any>>,
  deleted: [] as Array<Record<string, any>>,
  scheduleError: undefined as unknown,
  scheduleThere: true,
  ours: new Set<string>(),
  askedOurs: [] as string[][],
}));
vi.mock('../../lib/pam/credential-api.js', async (actual) => {
  const real = await actual<typeof import('../../lib/pam/credential-api.js')>();
  const call = (name: string) => async (id: string) => {
    calls.pam.push(`${name} ${id}`);
    const refusal = calls.refusals.get(`${name} ${id}`);
    if (refusal) throw refusal;
  };
  return {
    ...real,
    listCredentials: async () => {
      calls.pam.push('list');
      const next = calls.list.shift();
      if (next instanceof Error) throw next;
      return next;
    },
    takeCustody: call('custody'),
    releaseCustody: call('release'),
    deactivateCredential: call('deactivate'),
    activateCredential: call('activate'),
  };
});
vi.mock('../../lib/aws/scheduler.js', async (actual) => ({
  ...(await actual<typeof import('../../lib/aws/scheduler.js')>()),
  createSchedule: async (input: Record<string, any>) => {
    calls.schedules.push(input);
    if (calls.scheduleError) throw calls.scheduleError;
  },
  deleteSchedule: async (input: Record<string, any>) => {
    calls.deleted.push(input);
    return calls.scheduleThere;
  },
}));
vi.mock('../../lib/inventory/termination-records.js', () => ({
  terminatedAmong: async (_bucket: unknown, ids: string[]) => {
    calls.askedOurs.push(ids);
    return new Set(ids.filter((id) => calls.ours.has(id)));
  },
}));
vi.mock('../../lib/aws/audit-trail.js', () => import('../support/report-sinks.js').then((sinks) => sinks.auditTrail));
vi.mock('../../lib/aws/alarm-topic.js', () => import('../support/report-sinks.js').then((sinks) => sinks.alarmTopic));

const OPTIONS = { deadline: Number.MAX_SAFE_INTEGER };
const TRIGGER = { event_id: 'evt-51a0', source: 'siem.soar', detail_type: 'PAM Session Termination Requested' };
const refused = (code: number, message = `PAM said ${code}`) =>
  new PamApiError({ kind: 'rejected', retryable: false, status: 400, pamErrorCode: code, message });
const credential = (
  id: string,
  username: string,
  ip: string | null,
  hostname: string | null = null,
): PamCredential => ({
  id,
  username,
  ip,
  hostname,
});

function terminated(id: string, user: string, credentialName: string | null, device: string, kind = 'terminated') {
  return {
    session_id: id,
    outcome: kind,
    session: { id, user, origin_ip: '203.0.113.77', device, credential: credentialName, protocol: 'SSH' },
    resolved_from: 'index',
    index_age_ms: 900,
    event_age_ms: 1_800,
  } as Outcome;
}
function report(outcomes: Outcome[], dryRun = false): TerminationReport {
  return {
    reason: 'credential dump seen by the SIEM',
    requested_by: 'soc-analyst',
    dry_run: dryRun,
    trigger: TRIGGER,
    outcomes,
    summary: {},
    audit: { published: 0, failed: 0 },
  };
}
function request(contain: TerminationRequest['contain'], occurredAt?: number): TerminationRequest {
  return {
    sessionIds: [],
    criteria: [],
    reason: 'credential dump seen by the SIEM',
    requestedBy: 'soc-analyst',
    dryRun: false,
    trigger: TRIGGER,
    contain,
    ...(occurredAt === undefined ? {} : { occurredAt }),
  };
}
const contain = (outcomes: Outcome[], actions: TerminationRequest['contain'] = ['rotate'], dryRun = false) =>
  containCredentials(request(actions), report(outcomes, dryRun), terminationSettings(), OPTIONS);
const brief = (outcomes: Array<{ action: string; outcome: string; credential: { id: string | null } }> = []) =>
  outcomes.map((o) => `${o.action} ${o.outcome} ${o.credential.id}`);

const ENV = [
  'PROTECTED_USERS',
  'PROTECTED_CREDENTIALS',
  'MAX_CREDENTIALS_PER_REQUEST',
  'QUARANTINE_MINUTES',
  'REACTIVATION_TARGET_ARN',
  'REACTIVATION_SCHEDULE_ROLE_ARN',
];
beforeEach(() => {
  calls.pam.length = 0;
  calls.list.length = 0;
  calls.refusals.clear();
  calls.schedules.length = 0;
  calls.deleted.length = 0;
  calls.scheduleError = undefined;
  calls.scheduleThere = true;
  calls.ours.clear();
  calls.askedOurs.length = 0;
  forgetSent();
  forgetCredentialList();
  process.env.REACTIVATION_TARGET_ARN =
    'arn:aws:lambda:us-east-1:123456789012:function:pam-session-responder-credentials';
  process.env.REACTIVATION_SCHEDULE_ROLE_ARN = 'arn:aws:iam::123456789012:role/pam-session-responder-scheduler';
});
afterEach(() => {
  for (const name of ENV) delete process.env[name];
  vi.useRealTimers();
});

describe('which credentials a termination contains', () => {
  it('contains the credential of each terminated session once, and only those', async () => {
    calls.list.push([credential('41', 'root', '10.66.50.9'), credential('42', 'ec2-user', '10.66.50.10')]);
    const result = await contain([
      terminated('s1', 'aoliveira', 'root', '10.66.50.9'),
      terminated('s2', 'mchen', 'root', '10.66.50.9:22'),
      terminated('s3', 'aoliveira', 'ec2-user', '10.66.50.10', 'skipped_protected'),
      terminated('s4', 'aoliveira', 'ec2-user', '10.66.50.10', 'failed'),
    ]);
    expect(brief(result?.outcomes)).toEqual(['rotate rotated 41']);
    expect(result?.outcomes[0]?.session_ids).toEqual(['s1', 's2']);
    expect(calls.pam).toEqual(['list', 'custody 41', 'release 41']);
    // Nothing was already ended, so no record is read for this request's sessions.
    expect(calls.askedOurs).toEqual([[]]);
  });

  it('also contains a session this deployment ended before (a retry), never one that ended on its own', async () => {
    calls.list.push([credential('41', 'root', '10.66.50.9'), credential('42', 'ec2-user', '10.66.50.10')]);
    calls.ours.add('s1');
    const result = await contain([
      terminated('s1', 'aoliveira', 'root', '10.66.50.9', 'already_ended'),
      terminated('s2', 'aoliveira', 'ec2-user', '10.66.50.10', 'already_ended'),
      terminated('s3', 'aoliveira', 'ec2-user', '10.66.50.10', 'blocked'),
    ]);
    expect(calls.askedOurs).toEqual([['s1', 's2']]);
    expect(brief(result?.outcomes)).toEqual(['rotate rotated 41']);
  });

  it('in a dry run, previews the sessions that would be terminated, without reading the records or changing PAM', async () => {
    calls.list.push([credential('41', 'root', '10.66.50.9'), credential('42', 'ec2-user', '10.66.50.10')]);
    const result = await contain(
      [
        terminated('s1', 'aoliveira', 'root', '10.66.50.9', 'would_terminate'),
        terminated('s2', 'aoliveira', 'ec2-user', '10.66.50.10', 'already_ended'),
      ],
      ['rotate', 'deactivate'],
      true,
    );
    expect(brief(result?.outcomes)).toEqual(['rotate would_rotate 41', 'deactivate would_deactivate 41']);
    expect(calls.askedOurs).toEqual([[]]);
    expect(calls.pam).toEqual(['list']);
  });

  it('does nothing when no containment was asked', async () => {
    expect(await contain([terminated('s1', 'aoliveira', 'root', '10.66.50.9')], [])).toBeUndefined();
    const none = request(undefined);
    expect(
      await containCredentials(
        none,
        report([terminated('s1', 'aoliveira', 'root', '10.66.50.9')]),
        terminationSettings(),
        OPTIONS,
      ),
    ).toBeUndefined();
    expect(calls.pam).toEqual([]);
  });

  it('contains exactly MAX_CREDENTIALS_PER_REQUEST credentials, and blocks one more, all of them', async () => {
    process.env.MAX_CREDENTIALS_PER_REQUEST = '2';
    const list = [credential('41', 'root', '10.66.50.9'), credential('42', 'root', '10.66.50.10')];
    calls.list.push(list);
    const two = await contain([
      terminated('s1', 'aoliveira', 'root', '10.66.50.9'),
      terminated('s2', 'aoliveira', 'root', '10.66.50.10'),
    ]);
    expect(brief(two?.outcomes)).toEqual(['rotate rotated 41', 'rotate rotated 42']);
    calls.pam.length = 0;
    calls.list.push([...list, credential('43', 'root', '10.66.50.11')]);
    forgetCredentialList();
    const three = await contain([
      terminated('s1', 'aoliveira', 'root', '10.66.50.9'),
      terminated('s2', 'aoliveira', 'root', '10.66.50.10'),
      terminated('s3', 'aoliveira', 'root', '10.66.50.11'),
    ]);
    expect(brief(three?.outcomes)).toEqual(['rotate blocked 41', 'rotate blocked 42', 'rotate blocked 43']);
    expect(three?.outcomes[0]?.message).toBe(
      '3 credentials to contain, more than MAX_CREDENTIALS_PER_REQUEST (2): none was contained, a human decides',
    );
    expect(calls.pam).toEqual(['list']);
  });

  it('skips the credential of a protected user, and a protected credential even when PAM does not list it', async () => {
    process.env.PROTECTED_USERS = 'break_glass';
    process.env.PROTECTED_CREDENTIALS = 'svc_backup';
    calls.list.push([credential('41', 'root', '10.66.50.9')]);
    const result = await contain([
      terminated('s1', 'break_glass', 'root', '10.66.50.9'),
      terminated('s2', 'aoliveira', 'svc_backup', '10.66.50.9'),
    ]);
    expect(result?.outcomes.map((o) => [o.outcome, o.session_ids, o.message])).toEqual([
      ['skipped_protected', ['s1'], 'user "break_glass" is protected (PROTECTED_USERS)'],
      ['skipped_protected', ['s2'], 'credential "svc_backup" is protected (PROTECTED_CREDENTIALS)'],
    ]);
    expect(calls.pam).toEqual(['list']);
  });

  it('keeps apart the credentials no entry matches, each with its own sessions and reason', async () => {
    calls.list.push([], []);
    const result = await contain([
      terminated('s1', 'aoliveira', 'oracle', '10.66.50.9'),
      terminated('s2', 'aoliveira', 'postgres', '10.66.50.9'),
      terminated('s3', 'mchen', 'oracle', '10.66.50.9'),
    ]);
    expect(result?.outcomes.map((o) => [o.outcome, o.credential, o.session_ids, o.message])).toEqual([
      [
        'not_contained',
        { id: null, username: 'oracle', device: '10.66.50.9' },
        ['s1', 's3'],
        'no credential "oracle" on 10.66.50.9 in PAM\'s credential list (as this application sees it)',
      ],
      [
        'not_contained',
        { id: null, username: 'postgres', device: '10.66.50.9' },
        ['s2'],
        'no credential "postgres" on 10.66.50.9 in PAM\'s credential list (as this application sees it)',
      ],
    ]);
  });

  it('fails each credential when the list cannot be read, protected or not, never a guess', async () => {
    process.env.PROTECTED_USERS = 'break_glass';
    calls.list.push(new PamApiError({ kind: 'timeout', retryable: true, message: 'no answer within 5000 ms' }));
    const result = await contain([
      terminated('s1', 'break_glass', 'root', '10.66.50.9'),
      terminated('s2', 'aoliveira', 'root', '10.66.50.9'),
    ]);
    expect(result?.outcomes.map((o) => [o.outcome, o.session_ids, o.message])).toEqual([
      ['failed', ['s1'], "PAM's credential list could not be read: no answer within 5000 ms"],
      ['failed', ['s2'], "PAM's credential list could not be read: no answer within 5000 ms"],
    ]);
    expect(result?.outcomes[0]?.error).toBeInstanceOf(PamApiError);
    expect(calls.pam).toEqual(['list']);
  });

  it('keeps what went wrong behind a failure that is not one of ours', async () => {
    const broken = new TypeError('fetch failed');
    calls.list.push(broken);
    const result = await contain([terminated('s1', 'aoliveira', 'root', '10.66.50.9')]);
    expect(result?.outcomes[0]?.message).toBe("PAM's credential list could not be read: TypeError: fetch failed");
    expect(result?.outcomes[0]?.error).toBeInstanceOf(TerminationIncompleteError);
    expect(result?.outcomes[0]?.error?.cause).toBe(broken);
  });

  it('keeps what went wrong behind a rotation that failed in a way that is not one of ours', async () => {
    const broken = new TypeError('fetch failed');
    calls.list.push([credential('41', 'root', '10.66.50.9')]);
    calls.refusals.set('custody 41', broken);
    const result = await contain([terminated('s1', 'aoliveira', 'root', '10.66.50.9')]);
    expect(result?.outcomes[0]).toMatchObject({ outcome: 'failed', message: expect.stringContaining('fetch failed') });
    expect(result?.outcomes[0]?.error?.cause).toBe(broken);
  });

  it('says how long after the request each credential was contained', async () => {
    calls.list.push([credential('41', 'root', '10.66.50.9')]);
    const result = await containCredentials(
      request(['rotate'], Date.now() - 5_000),
      report([terminated('s1', 'aoliveira', 'root', '10.66.50.9')]),
      terminationSettings(),
      OPTIONS,
    );
    const age = result?.outcomes[0]?.contained_age_ms ?? 0;
    expect(age).toBeGreaterThanOrEqual(5_000);
    expect(age).toBeLessThan(60_000);
  });

  it('names a refusal in words an operator acts on, and the rotation does not stop the deactivation', async () => {
    calls.list.push([credential('41', 'root', '10.66.50.9')]);
    calls.refusals.set('custody 41', refused(1009, 'no access'));
    process.env.QUARANTINE_MINUTES = '0';
    const result = await contain([terminated('s1', 'aoliveira', 'root', '10.66.50.9')], ['rotate', 'deactivate']);
    expect(result?.outcomes.map((o) => [o.action, o.outcome, o.message])).toEqual([
      ['rotate', 'failed', 'the A2A authorization has no access to this credential (1009): grant it in PAM; no access'],
      ['deactivate', 'quarantined', 'QUARANTINE_MINUTES is 0: only a human reactivates it'],
    ]);
  });
});

describe("looking a session's credential up in PAM's list", () => {
  const lookup = (maxAgeMs = 60_000) => new CredentialLookup(maxAgeMs, OPTIONS);

  it('finds the one credential of that username on that address or hostname, never a neighbour', async () => {
    calls.list.push([
      credential('40', 'rooted', '10.66.50.9'),
      credential('41', 'root', '10.66.50.9'),
      credential('42', 'root', '10.66.50.10', 'DB01.corp.example'),
    ]);
    const found = lookup();
    expect(await found.find('root', '10.66.50.9')).toEqual({ found: credential('41', 'root', '10.66.50.9') });
    expect(await found.find('ROOT', 'db01.corp.example')).toMatchObject({ found: { id: '42' } });
    expect(await found.find(null, '10.66.50.9')).toEqual({
      reason: 'the session names no credential or no device to look the credential up by',
    });
    expect(await found.find('root', null)).toMatchObject({ reason: expect.stringContaining('no device') });
    expect(calls.pam).toEqual(['list']);
  });

  it('never picks one of several', async () => {
    calls.list.push([credential('41', 'root', '10.66.50.9'), credential('43', 'root', null, '10.66.50.9')]);
    expect(await lookup().find('root', '10.66.50.9')).toEqual({
      reason: `2 credentials "root" on 10.66.50.9 in PAM's credential list (ids 41, 43): none was contained, a human decides`,
    });
  });

  it('reads the list again once on a miss, for a credential created since', async () => {
    calls.list.push([credential('41', 'root', '10.66.50.9')]);
    await lookup().find('root', '10.66.50.9');
    calls.list.push([credential('41', 'root', '10.66.50.9'), credential('42', 'oracle', '10.66.50.9')]);
    calls.list.push([credential('43', 'postgres', '10.66.50.9')]);
    const second = lookup();
    expect(await second.find('oracle', '10.66.50.9')).toMatchObject({ found: { id: '42' } });
    expect(await second.find('postgres', '10.66.50.9')).toMatchObject({
      reason: expect.stringContaining('no credential'),
    });
    expect(calls.pam).toEqual(['list', 'list']);
  });

  it('does not read again on a miss in the request that just read the list', async () => {
    calls.list.push([credential('41', 'root', '10.66.50.9')], [credential('42', 'oracle', '10.66.50.9')]);
    expect(await lookup().find('oracle', '10.66.50.9')).toMatchObject({
      reason: expect.stringContaining('no credential'),
    });
    expect(calls.pam).toEqual(['list']);
  });

  it('keeps a list up to CREDENTIAL_LIST_MAX_AGE_SECONDS old, and reads one older again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse('2026-12-07T10:00:00.000Z'));
    calls.list.push([credential('41', 'root', '10.66.50.9')]);
    await lookup(300_000).find('root', '10.66.50.9');
    vi.setSystemTime(Date.parse('2026-12-07T10:05:00.000Z'));
    await lookup(300_000).find('root', '10.66.50.9');
    expect(calls.pam).toEqual(['list']);
    vi.setSystemTime(Date.parse('2026-12-07T10:05:00.001Z'));
    calls.list.push([credential('41', 'root', '10.66.50.9')]);
    await lookup(300_000).find('root', '10.66.50.9');
    expect(calls.pam).toEqual(['list', 'list']);
  });

  it('asks for a list that could not be read once per request', async () => {
    calls.list.push(new PamApiError({ kind: 'unreachable', retryable: true, message: 'refused' }));
    const failing = lookup();
    await expect(failing.find('root', '10.66.50.9')).rejects.toThrow('refused');
    await expect(failing.find('oracle', '10.66.50.9')).rejects.toThrow('refused');
    expect(calls.pam).toEqual(['list']);
  });
});

describe('rotating and quarantining one credential', () => {
  it('rotates by taking and releasing custody; 1018 on release is already released, 1008 on custody is inactive', async () => {
    expect(await rotateCredential('41', OPTIONS)).toEqual({ outcome: 'rotated' });
    calls.refusals.set('release 42', refused(1018));
    expect(await rotateCredential('42', OPTIONS)).toEqual({
      outcome: 'rotated',
      message: 'PAM said the credential was no longer in custody (1018): already released',
    });
    calls.refusals.set('custody 43', refused(1008));
    expect(await rotateCredential('43', OPTIONS)).toEqual({
      outcome: 'not_contained',
      message: 'PAM refused custody: the credential is inactive (1008), so nobody can use it until it is reactivated',
    });
    expect(calls.pam).toEqual(['custody 41', 'release 41', 'custody 42', 'release 42', 'custody 43']);
    calls.refusals.set('release 44', refused(1009));
    await expect(rotateCredential('44', OPTIONS)).rejects.toMatchObject({ pamErrorCode: 1009 });
    calls.refusals.set('custody 45', refused(1007));
    await expect(rotateCredential('45', OPTIONS)).rejects.toMatchObject({ pamErrorCode: 1007 });
  });

  it('says what each vendor refusal asks of the operator', () => {
    expect(refusalMessage(refused(1007, 'not found'))).toBe('PAM does not know this credential (1007): not found');
    expect(refusalMessage(refused(1039, 'denied'))).toBe(
      'the A2A authorization lacks PAM write permission (1039): grant it in PAM; denied',
    );
    expect(refusalMessage(refused(1018, 'not in custody'))).toBe('not in custody');
    expect(refusalMessage(new Error('socket hang up'))).toBe('Error: socket hang up');
  });

  it('deactivates and schedules one reactivation at the next whole second after QUARANTINE_MINUTES', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse('2026-12-07T10:00:00.250Z'));
    process.env.QUARANTINE_MINUTES = '90';
    const result = await quarantineCredential('41', containmentSettings(), { ...OPTIONS, reason: 'dump' });
    expect(result).toEqual({ outcome: 'quarantined', reactivate_at: '2026-12-07T11:30:01.000Z' });
    expect(calls.deleted).toEqual([]);
    expect(calls.schedules).toEqual([
      {
        Name: 'reactivate-credential-41',
        GroupName: 'pam-session-responder',
        ScheduleExpression: 'at(2026-12-07T11:30:01)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Description: 'Reactivates PAM credential 41 at the end of its quarantine',
        Target: {
          Arn: process.env.REACTIVATION_TARGET_ARN,
          RoleArn: process.env.REACTIVATION_SCHEDULE_ROLE_ARN,
          Input: JSON.stringify({
            action: 'reactivate',
            credential_id: '41',
            schedule: 'reactivate-credential-41',
            reason: 'dump',
          }),
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 86_400 },
        },
      },
    ]);
  });

  it('keeps the schedule a first delivery made, and makes none for an already inactive credential', async () => {
    calls.scheduleError = Object.assign(new Error('exists'), { name: 'ConflictException' });
    expect(await quarantineCredential('41', containmentSettings(), { ...OPTIONS, reason: 'dump' })).toEqual({
      outcome: 'quarantined',
      message: 'its reactivation was already scheduled',
    });
    calls.schedules.length = 0;
    calls.refusals.set('deactivate 42', refused(1008));
    expect(await quarantineCredential('42', containmentSettings(), { ...OPTIONS, reason: 'dump' })).toEqual({
      outcome: 'already_quarantined',
      message: 'PAM says the credential is already inactive (1008)',
    });
    expect(calls.schedules).toEqual([]);
  });

  it('says loudly that a deactivated credential stays so when its reactivation cannot be scheduled', async () => {
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    calls.scheduleError = denied;
    const failure = quarantineCredential('41', containmentSettings(), { ...OPTIONS, reason: 'dump' });
    await expect(failure).rejects.toBeInstanceOf(TerminationIncompleteError);
    await expect(failure).rejects.toThrow(
      'credential 41 was deactivated, but its reactivation could not be scheduled (AccessDeniedException): reactivate it with POST /credentials/41/reactivate when the incident allows',
    );
    await expect(failure).rejects.toMatchObject({ cause: denied });
    calls.scheduleError = 'throttled';
    await expect(quarantineCredential('42', containmentSettings(), { ...OPTIONS, reason: 'dump' })).rejects.toThrow(
      '(throttled)',
    );
  });

  it('refuses to schedule without its target and role, before anything is sent to Scheduler', async () => {
    delete process.env.REACTIVATION_SCHEDULE_ROLE_ARN;
    const failure = quarantineCredential('41', containmentSettings(), { ...OPTIONS, reason: 'dump' });
    await expect(failure).rejects.toBeInstanceOf(TerminationIncompleteError);
    await expect(failure).rejects.toMatchObject({
      cause: new ConfigurationError(
        'REACTIVATION_TARGET_ARN and REACTIVATION_SCHEDULE_ROLE_ARN must be set to schedule a reactivation (or set QUARANTINE_MINUTES=0)',
      ),
    });
    expect(calls.schedules).toEqual([]);
  });

  it('reactivates, and says when it deleted the pending schedule', async () => {
    expect(await reactivateCredential('41', containmentSettings(), OPTIONS)).toEqual({
      outcome: 'reactivated',
      message: 'its scheduled reactivation was deleted',
    });
    calls.scheduleThere = false;
    expect(await reactivateCredential('41', containmentSettings(), OPTIONS)).toEqual({ outcome: 'reactivated' });
    expect(calls.deleted).toEqual([
      { Name: 'reactivate-credential-41', GroupName: 'pam-session-responder' },
      { Name: 'reactivate-credential-41', GroupName: 'pam-session-responder' },
    ]);
  });
});

describe('a credential named by id (by hand, or by its schedule)', () => {
  const byHand = (overrides: Partial<CredentialRequest>): CredentialRequest => ({
    action: 'quarantine',
    credentialId: '41',
    reason: 'extending the quarantine',
    requestedBy: 'arn:aws:sts::123456789012:assumed-role/soc/analyst',
    trigger: TRIGGER,
    occurredAt: Date.now() - 3_000,
    ...overrides,
  });

  it('quarantines for the minutes asked, replacing the schedule, and audits the caller', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse('2026-12-07T10:00:00.000Z'));
    const response = await actOnCredential(byHand({ minutes: 30, occurredAt: Date.now() - 3_000 }), OPTIONS);
    expect(response).toEqual({
      credential_id: '41',
      action: 'quarantine',
      outcome: 'quarantined',
      reactivate_at: '2026-12-07T10:30:00.000Z',
      audit: { published: 1, failed: 0 },
    });
    expect(calls.deleted).toHaveLength(1);
    expect(calls.schedules[0]?.ScheduleExpression).toBe('at(2026-12-07T10:30:00)');
    expect(sent.audit[0]?.[0]?.detail).toMatchObject({
      action: 'quarantine',
      credential: { id: '41', username: null, device: null },
      session_ids: [],
      contained_age_ms: 3_000,
      requested_by: 'arn:aws:sts::123456789012:assumed-role/soc/analyst',
      dry_run: false,
    });
  });

  it('extends the quarantine of an inactive credential; with 0 minutes, deletes its schedule and says so', async () => {
    calls.refusals.set('deactivate 41', refused(1008));
    expect(await actOnCredential(byHand({ minutes: 0, requestedBy: undefined }), OPTIONS)).toEqual({
      credential_id: '41',
      action: 'quarantine',
      outcome: 'already_quarantined',
      reactivate_at: null,
      message: 'no reactivation is scheduled: only a human reactivates it',
      audit: { published: 1, failed: 0 },
    });
    expect(calls.deleted).toEqual([{ Name: 'reactivate-credential-41', GroupName: 'pam-session-responder' }]);
    expect(calls.schedules).toEqual([]);
    expect(sent.audit[0]?.[0]?.detail).toMatchObject({ requested_by: null });
  });

  it('takes QUARANTINE_MINUTES when no minutes are given', async () => {
    process.env.QUARANTINE_MINUTES = '0';
    expect(await actOnCredential(byHand({}), OPTIONS)).toMatchObject({ outcome: 'quarantined', reactivate_at: null });
  });

  it('reactivates without a reactivation time in the response', async () => {
    calls.scheduleThere = false;
    const response = await actOnCredential(byHand({ action: 'reactivate' }), OPTIONS);
    expect(response).toEqual({
      credential_id: '41',
      action: 'reactivate',
      outcome: 'reactivated',
      audit: { published: 1, failed: 0 },
    });
    expect(response).not.toHaveProperty('reactivate_at');
    expect(response).not.toHaveProperty('message');
  });

  it("answers PAM's 1007 as a credential PAM does not know, and passes other refusals as they are", async () => {
    const unknown = refused(1007, 'credential not found');
    calls.refusals.set('deactivate 41', unknown);
    const failure = actOnCredential(byHand({}), OPTIONS);
    await expect(failure).rejects.toBeInstanceOf(CredentialNotFoundError);
    await expect(failure).rejects.toThrow('PAM does not know credential 41 (1007): credential not found');
    await expect(failure).rejects.toMatchObject({ cause: unknown });
    const noAccess = refused(1009);
    calls.refusals.set('activate 42', noAccess);
    await expect(actOnCredential(byHand({ action: 'reactivate', credentialId: '42' }), OPTIONS)).rejects.toBe(noAccess);
    calls.refusals.set('deactivate 43', refused(1039));
    await expect(actOnCredential(byHand({ credentialId: '43' }), OPTIONS)).rejects.toMatchObject({
      pamErrorCode: 1039,
    });
    expect(sent.audit).toEqual([]);
  });
});
