import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpApiEvent, lambdaContext } from '../../infra/local/lambda-events.js';
import { type LocalPam, startLocalPam } from '../../infra/local/local-pam.js';
import { generateSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { forgetCachedSecret } from '../../lib/pam/pam-secret.js';
import { eventFixture } from '../support/fixtures.js';
import { type Handler, loadHandler } from '../support/handlers.js';
import { asJson } from '../support/json-result.js';
import { resetLocalPam } from '../support/local-reset.js';
import { captureOutput } from '../support/output-capture.js';

let local: LocalPam;
let drop: Handler;
const output = captureOutput();
const GUARDRAIL_ENV = [
  'PROTECTED_USERS',
  'PROTECTED_CREDENTIALS',
  'MAX_SESSIONS_PER_EVENT',
  'DRY_RUN',
  'DROP_CONCURRENCY',
];
const PAM_500 = JSON.stringify({
  response: { status: 500, message: 'An error occurred while droping session', error: true, error_code: 1 },
});

beforeAll(async () => {
  local = await startLocalPam();
  Object.assign(process.env, local.env, { PAM_RETRY_BASE_DELAY_MS: '5' });
  drop = await loadHandler('drop');
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  await resetLocalPam(local);
  process.env.PROTECTED_USERS = 'break_glass';
});

afterEach(() => {
  for (const name of GUARDRAIL_ENV) delete process.env[name];
});

const dropped = () =>
  local.pam.requests
    .filter((request) => request.endpoint === 'drop' && request.status === 200)
    .map((request) => request.path.split('/').pop());
const idOf = (user: string, device: string) =>
  local.pam.sessions.find((s) => s.user === user && s.device === device)?.session_id ?? '';
const activeIds = () => new Set(local.pam.sessions.filter((s) => s.end === null).map((s) => s.session_id));
const outcomesOf = (report: { outcomes: Array<{ session_id: string; outcome: string }> }) =>
  Object.fromEntries(report.outcomes.map((outcome) => [outcome.session_id, outcome.outcome]));

describe('GuardDuty, end to end through the simulator', () => {
  it('cuts exactly the active sessions into the compromised instance and nothing else', async () => {
    const before = activeIds();
    const finding = eventFixture('guardduty-cryptocurrency-instance');
    const report = await drop(finding, lambdaContext());
    const target = idOf('aoliveira', '10.66.50.9:22');
    expect(outcomesOf(report)).toEqual({ [target]: 'terminated' });
    expect(dropped()).toEqual([target]);
    before.delete(target);
    expect(activeIds()).toEqual(before);
    expect(report.trigger).toEqual({
      event_id: finding.id,
      source: 'aws.guardduty',
      detail_type: 'GuardDuty Finding',
      finding_id: '7ec4b1e0f2a34c5d8e9f0a1b2c3d4e5f',
      finding_title:
        'EC2 instance i-0a1b2c3d4e5f60718 is querying a domain name that is associated with Bitcoin-related activity.',
      finding_keys: [
        'arn:aws:guardduty:us-east-1:123456789012:detector/2cb1a8e7d3f04b6c9e0a1b2c3d4e5f60/finding/7ec4b1e0f2a34c5d8e9f0a1b2c3d4e5f@2026-11-23T09:12:40.103Z',
      ],
    });
  });

  it('cuts the sessions coming from the attacking address of an inbound brute force', async () => {
    const report = await drop(eventFixture('guardduty-rdp-bruteforce-inbound'), lambdaContext());
    expect(Object.keys(outcomesOf(report)).sort()).toEqual(
      [idOf('aoliveira', '10.66.50.9:22'), idOf('aoliveira', '10.66.50.10:22')].sort(),
    );
    expect(new Set(Object.values(outcomesOf(report)))).toEqual(new Set(['terminated']));
  });

  it("never cuts an administrator's session into the instance an inbound brute force attacks", async () => {
    // Seen: legit_admin's RDP session into the attacked host was cut along with the attacker's.
    const admin = { ...local.pam.sessions[0]!, id: '90', session_id: 'a'.repeat(40), user: 'legit_admin' };
    local.pam.sessions.push({ ...admin, origin_ip: '172.16.20.200', device: '10.66.99.4:3389', end: null, time: null });
    local.pam.sessionsChanged();
    const report = await drop(eventFixture('guardduty-rdp-bruteforce-inbound'), lambdaContext());
    expect(Object.keys(outcomesOf(report))).not.toContain(admin.session_id);
    expect(dropped()).not.toContain(admin.session_id);
    expect(Object.keys(outcomesOf(report))).toContain(idOf('aoliveira', '10.66.50.9:22'));
  });

  it('does nothing with a sample finding made by CreateSampleFindings, nor an archived one', async () => {
    const sample = eventFixture('guardduty-cryptocurrency-instance');
    sample.detail.service.additionalInfo = { sample: true, type: 'default', value: '{"sample":true}' };
    expect(await drop(sample, lambdaContext())).toMatchObject({
      outcomes: [],
      ignored: expect.stringMatching(/sample/),
    });
    const archived = eventFixture('guardduty-cryptocurrency-instance');
    archived.detail.service.archived = true;
    expect(await drop(archived, lambdaContext())).toMatchObject({ outcomes: [], ignored: 'it is archived' });
    expect(local.pam.requests).toHaveLength(0);
  });

  it('cuts the attacker whose origin PAM wrote as IPv4-mapped IPv6, or with its port', async () => {
    // The seen bug: the finding names 203.0.113.77, PAM recorded ::ffff:203.0.113.77, the session stayed.
    const mapped = local.pam.sessions.find((s) => s.device === '10.66.50.9:22');
    const withPort = local.pam.sessions.find((s) => s.device === '10.66.50.10:22');
    if (!mapped || !withPort) throw new Error('seed changed');
    mapped.origin_ip = '::ffff:203.0.113.77';
    withPort.origin_ip = '203.0.113.77:51234';
    local.pam.sessionsChanged();
    const report = await drop(eventFixture('guardduty-rdp-bruteforce-inbound'), lambdaContext());
    expect(outcomesOf(report)).toEqual({ [mapped.session_id]: 'terminated', [withPort.session_id]: 'terminated' });
  });

  it('does nothing with a finding below the threshold, even delivered directly', async () => {
    const report = await drop(eventFixture('guardduty-port-probe-low-severity'), lambdaContext());
    expect(report).toMatchObject({ outcomes: [], ignored: 'severity 2 is below the threshold 7' });
    expect(local.pam.requests).toHaveLength(0);
  });

  it('responds to the same event delivered again with its first response, asking PAM nothing', async () => {
    const finding = eventFixture('guardduty-cryptocurrency-instance');
    const first = await drop(finding, lambdaContext());
    local.pam.requests.length = 0;
    local.eventBridge.events.length = 0;
    const again = await drop(finding, lambdaContext());
    expect(again).toEqual(first);
    expect(outcomesOf(again)).toEqual({ [idOf('aoliveira', '10.66.50.9:22')]: 'terminated' });
    expect(local.pam.requests).toEqual([]);
    expect(local.eventBridge.events).toEqual([]);
  });
});

describe('Security Hub', () => {
  it('cuts sessions into the instance and from the source address of a HIGH finding', async () => {
    const report = await drop(eventFixture('securityhub-imported-high'), lambdaContext());
    expect(outcomesOf(report)).toEqual({ [idOf('mchen', '10.66.40.21:3389')]: 'terminated' });
  });

  it('acts on the custom action and still spares the protected account', async () => {
    const report = await drop(eventFixture('securityhub-custom-action'), lambdaContext());
    expect(outcomesOf(report)).toEqual({
      [idOf('jsilva', '10.66.33.17:22')]: 'terminated',
      [idOf('break_glass', '10.66.40.1:3389')]: 'skipped_protected',
    });
    expect(activeIds().has(idOf('break_glass', '10.66.40.1:3389'))).toBe(true);
  });
});

describe('Security Hub findings that are not what they claim', () => {
  it("ignores a finding imported on the account's own product (BatchImportFindings), whatever it names", async () => {
    // Seen: a finding made with BatchImportFindings on the default product (CompanyName: Personal) cut two sessions.
    const forged = eventFixture('securityhub-imported-high');
    const finding = forged.detail.findings[0];
    finding.ProductArn = 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default';
    finding.CompanyName = 'Personal';
    finding.ProductFields = { 'aws/securityhub/ProductName': 'Default', 'aws/securityhub/CompanyName': 'Personal' };
    finding.Network = { Direction: 'OUT' };
    finding.Resources[0].Details.AwsEc2Instance.IpV4Addresses = ['10.66.50.9', '10.66.50.10'];
    const report = await drop(forged, lambdaContext());
    expect(report).toMatchObject({ outcomes: [], ignored: expect.stringMatching(/is not in SECURITYHUB_PRODUCTS/) });
    expect(local.pam.requests).toHaveLength(0);
  });
});

describe('termination requests from a SIEM', () => {
  it('by id: terminates the active one, reports the ended one as already_ended, drops nothing twice', async () => {
    const report = await drop(eventFixture('termination-request-by-id'), lambdaContext());
    expect(outcomesOf(report)).toEqual({
      e5618522d5737fac6d001bc864892095f066abb5: 'terminated',
      '8cc31600edaa1b4f36acd0e1b7c0954d9a033db0': 'already_ended',
    });
    expect(dropped()).toEqual(['e5618522d5737fac6d001bc864892095f066abb5']);
    expect(report).toMatchObject({ requested_by: 'soar-playbook:privileged-misuse', dry_run: false });
  });

  it('by id, delivered twice: the second delivery ends as already_ended without a drop', async () => {
    await drop(eventFixture('termination-request-by-id'), lambdaContext());
    local.pam.requests.length = 0;
    const again = await drop(eventFixture('termination-request-by-id'), lambdaContext());
    expect(new Set(Object.values(outcomesOf(again)))).toEqual(new Set(['already_ended']));
    expect(local.pam.requests.filter((request) => request.endpoint === 'drop')).toHaveLength(0);
  });

  it('by match: case-insensitive user and a CIDR block', async () => {
    const report = await drop(eventFixture('termination-request-by-match'), lambdaContext());
    expect(Object.keys(outcomesOf(report)).sort()).toEqual(
      [idOf('aoliveira', '10.66.50.9:22'), idOf('aoliveira', '10.66.50.10:22')].sort(),
    );
  });

  it('never terminates a protected user, on any path', async () => {
    const report = await drop(eventFixture('termination-request-protected'), lambdaContext());
    expect(report.outcomes).toEqual([
      expect.objectContaining({
        outcome: 'skipped_protected',
        message: 'user "break_glass" is protected (PROTECTED_USERS)',
      }),
    ]);
    const byId = eventFixture('termination-request-by-id');
    byId.detail.session_ids = [idOf('break_glass', '10.66.40.1:3389')];
    expect((await drop(byId, lambdaContext())).outcomes[0].outcome).toBe('skipped_protected');
    await expect(drop({ session_id: idOf('break_glass', '10.66.40.1:3389') }, lambdaContext())).rejects.toMatchObject({
      name: 'ProtectedSessionError',
    });
    expect(dropped()).toEqual([]);
  });

  it('protects a user however PAM writes the name (the seen bug: PROTECTED_USERS=joão did not spare joa\\u0303o)', async () => {
    process.env.PROTECTED_USERS = 'joão';
    const decomposed = local.pam.sessions.find((s) => s.device === '10.66.50.9:22');
    const withDomain = local.pam.sessions.find((s) => s.device === '10.66.50.10:22');
    if (!decomposed || !withDomain) throw new Error('seed changed');
    decomposed.user = 'joa\u0303o';
    withDomain.user = 'CORP\\JOÃO';
    local.pam.sessionsChanged();
    const report = await drop(eventFixture('guardduty-rdp-bruteforce-inbound'), lambdaContext());
    expect(outcomesOf(report)).toEqual({
      [decomposed.session_id]: 'skipped_protected',
      [withDomain.session_id]: 'skipped_protected',
    });
    expect(dropped()).toEqual([]);
  });

  it('protects credentials too', async () => {
    process.env.PROTECTED_CREDENTIALS = 'ROOT';
    const report = await drop(eventFixture('termination-request-by-match'), lambdaContext());
    expect(outcomesOf(report)).toEqual({
      [idOf('aoliveira', '10.66.50.9:22')]: 'skipped_protected',
      [idOf('aoliveira', '10.66.50.10:22')]: 'terminated',
    });
  });

  it('blocks the whole request when more sessions match than MAX_SESSIONS_PER_EVENT, dropping none', async () => {
    process.env.MAX_SESSIONS_PER_EVENT = '2';
    const request = eventFixture('termination-request-dry-run');
    request.detail.dry_run = false;
    const report = await drop(request, lambdaContext());
    const ssh = local.pam.sessions.filter((s) => s.protocol === 'ssh' && s.end === null);
    expect(report.outcomes).toHaveLength(ssh.length);
    expect(new Set(Object.values(outcomesOf(report)))).toEqual(new Set(['blocked']));
    expect(report.outcomes[0].message).toBe(
      '3 sessions matched, more than MAX_SESSIONS_PER_EVENT (2): none was terminated, a human decides',
    );
    expect(dropped()).toEqual([]);
  });

  it('previews with dry_run: resolves and reports, drops nothing', async () => {
    const report = await drop(eventFixture('termination-request-dry-run'), lambdaContext());
    expect(report.dry_run).toBe(true);
    expect(new Set(Object.values(outcomesOf(report)))).toEqual(new Set(['would_terminate']));
    expect(report.outcomes).toHaveLength(3);
    expect(dropped()).toEqual([]);
  });

  it('honours DRY_RUN=true for the whole deployment', async () => {
    process.env.DRY_RUN = 'true';
    const report = await drop(eventFixture('guardduty-cryptocurrency-instance'), lambdaContext());
    expect(report.outcomes.map((outcome: { outcome: string }) => outcome.outcome)).toEqual(['would_terminate']);
    expect(dropped()).toEqual([]);
  });

  it('refuses an invalid request before asking PAM anything', async () => {
    const request = eventFixture('termination-request-by-match');
    request.detail.match = {};
    await expect(drop(request, lambdaContext())).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'match needs at least one of user, origin_ip, device, credential, protocol',
    });
    expect(local.pam.requests).toHaveLength(0);
  });
});

describe('ambiguous answers and failures', () => {
  it('fails an event whose secret cannot be read (Secrets Manager throttling), for Lambda to retry it; nothing is sent', async () => {
    // Seen: the request returned success with a failed outcome: no retry, no DLQ, no alarm.
    forgetCachedSecret();
    local.secrets.failNext('ThrottlingException', 20);
    await expect(drop(eventFixture('termination-request-by-id'), lambdaContext())).rejects.toMatchObject({
      name: 'TerminationIncompleteError',
      message: expect.stringMatching(/could not be read right now: ThrottlingException/),
    });
    expect(local.pam.requests.filter((request) => request.endpoint === 'drop')).toEqual([]);
    local.secrets.clearFailures();
    forgetCachedSecret();
  });

  it("turns PAM's ambiguous 500 into already_ended when the session is no longer active", async () => {
    local.pam.injectFault('drop', { kind: 'status', status: 500, body: PAM_500, endSession: true });
    const report = await drop(eventFixture('guardduty-cryptocurrency-instance'), lambdaContext());
    expect(report.outcomes).toEqual([
      expect.objectContaining({
        outcome: 'already_ended',
        message: 'no longer active after an ambiguous answer to the drop',
      }),
    ]);
  });

  it('attempts every target, then throws when a drop truly failed, keeping what succeeded', async () => {
    local.pam.injectFault('drop', { kind: 'status', status: 500, body: PAM_500 });
    process.env.DROP_CONCURRENCY = '1';
    const error = await drop(eventFixture('termination-request-by-match'), lambdaContext()).catch(
      (caught: Error) => caught,
    );
    expect(error).toMatchObject({ name: 'TerminationIncompleteError' });
    expect(error.message).toMatch(/^1 drop\(s\) failed and 0 audit event\(s\) were not published/);
    expect(dropped()).toHaveLength(1);
    const types = local.eventBridge.events.map((event) => event['detail-type']).sort();
    expect(types).toEqual(['PAM Session Terminated', 'PAM Session Termination Failed']);
  });

  it('keeps going when EventBridge refuses some audit entries, retrying them', async () => {
    local.eventBridge.refuseEntries(1);
    await drop(eventFixture('termination-request-by-match'), lambdaContext());
    expect(local.eventBridge.events).toHaveLength(2);
  });
});

describe('one odd record', () => {
  it('gets its own failed outcome while the other targets are still terminated and audited', async () => {
    // Seen: a ValidationError thrown mid-request after another drop was already sent, with no audit event for it.
    const odd = {
      ...local.pam.sessions.find((s) => s.user === 'aoliveira')!,
      id: '77',
      session_id: 'has spaces/and slashes',
    };
    local.pam.sessions.push({
      ...odd,
      device: '10.66.50.12:22',
      end: null,
      time: null,
      ITSM: { ticket: 'CHG1' } as never,
    });
    local.pam.sessionsChanged();
    const report = await drop(eventFixture('termination-request-by-match'), lambdaContext());
    expect(outcomesOf(report)).toMatchObject({
      'has spaces/and slashes': 'failed',
      [idOf('aoliveira', '10.66.50.10:22')]: 'terminated',
    });
    expect(
      report.outcomes.find((o: { session_id: string }) => o.session_id === 'has spaces/and slashes').message,
    ).toMatch(/session_id may contain only/);
    const failedEvents = local.eventBridge.events.filter((e) => e['detail-type'] === 'PAM Session Termination Failed');
    expect(failedEvents.map((e) => (e.detail as { session_id: string }).session_id)).toEqual([
      'has spaces/and slashes',
    ]);
    expect(dropped()).not.toContain('has spaces/and slashes');
  });
});

describe('the audit trail', () => {
  it('publishes one event per outcome with the session, the reason, dry_run and the trigger', async () => {
    process.env.PROTECTED_CREDENTIALS = 'root';
    await drop(eventFixture('termination-request-by-match'), lambdaContext());
    const events = local.eventBridge.events;
    expect(events.map((event) => [event.source, event['detail-type'], event.eventBusName]).sort()).toEqual([
      ['pam.session-responder', 'PAM Session Terminated', 'default'],
      ['pam.session-responder', 'PAM Session Termination Skipped', 'default'],
    ]);
    const terminated = events.find((event) => event['detail-type'] === 'PAM Session Terminated');
    expect(terminated?.detail).toEqual({
      session_id: idOf('aoliveira', '10.66.50.10:22'),
      outcome: 'terminated',
      session: {
        id: '8',
        user: 'aoliveira',
        origin_ip: '203.0.113.77',
        device: '10.66.50.10:22',
        credential: 'ec2-user',
        protocol: 'ssh',
      },
      resolved_from: 'live',
      index_age_ms: null,
      event_age_ms: expect.any(Number),
      confirmed: true,
      reason: "Notable event 'Impossible travel' for aoliveira (urgency: critical)",
      requested_by: 'analyst:maria.souza',
      dry_run: false,
      trigger: {
        event_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        source: 'siem.splunk',
        detail_type: 'PAM Session Termination Requested',
      },
    });
  });

  it('uses the Blocked and Skipped detail-types for blocked and dry-run outcomes', async () => {
    await drop(eventFixture('termination-request-dry-run'), lambdaContext());
    process.env.MAX_SESSIONS_PER_EVENT = '1';
    await drop(eventFixture('termination-request-by-match'), lambdaContext());
    const types = new Set(local.eventBridge.events.map((event) => event['detail-type']));
    expect(types).toEqual(new Set(['PAM Session Termination Skipped', 'PAM Session Termination Blocked']));
  });

  it('publishes the outcomes that are not actions as one event per request, a few PutEvents calls at a time', async () => {
    // Seen: one broad request produced 19,995 audit events and 2,000 PutEvents calls at once.
    const sessions = generateSessions(5_000, { activeShare: 1 });
    local.pam.sessions.splice(0, local.pam.sessions.length, ...sessions);
    local.pam.sessionsChanged();
    const callsBefore = local.eventBridge.calls;
    const report = await drop(
      { ...eventFixture('termination-request-by-match'), detail: { match: { protocol: 'ssh' }, reason: 'broad' } },
      lambdaContext({ remainingMs: 60_000 }),
    );
    expect(report.summary).toEqual({ blocked: 1_667 });
    const blocked = local.eventBridge.events.filter((e) => e['detail-type'] === 'PAM Session Termination Blocked');
    const listed = blocked.flatMap((event) => (event.detail as { sessions: unknown[] }).sessions);
    expect(listed).toHaveLength(1_667);
    expect(blocked.length).toBeLessThanOrEqual(4);
    expect(blocked[0]?.detail).toMatchObject({ outcome: 'blocked', count: 1_667, reason: 'broad' });
    // Each part near PutEvents' 256 KB, so one per call.
    expect(local.eventBridge.calls - callsBefore).toBe(blocked.length);
  });

  it('tells the alarm topic which request the cap blocked, and how to confirm it', async () => {
    process.env.MAX_SESSIONS_PER_EVENT = '1';
    local.sns.notices.length = 0;
    await drop(eventFixture('termination-request-by-match'), lambdaContext());
    expect(local.sns.notices).toEqual([
      expect.objectContaining({
        subject: 'PAM session termination blocked: 2 sessions over the cap',
        message: expect.objectContaining({
          trigger: expect.objectContaining({ event_id: expect.stringMatching(/^[0-9a-f-]{36}$/) }),
          reason: "Notable event 'Impossible travel' for aoliveira (urgency: critical)",
          session_ids: expect.arrayContaining([idOf('aoliveira', '10.66.50.10:22')]),
          to_confirm: expect.stringContaining('POST /sessions/terminate/confirm'),
        }),
      }),
    ]);
  });

  it('says, for each outcome, how long after the event it came, and counts TimeToCut per kind of trigger', async () => {
    const event = eventFixture('termination-request-by-match');
    event.time = new Date(Date.now() - 5_000).toISOString();
    const report = await drop(event, lambdaContext());
    const terminated = report.outcomes.find((o: { outcome: string }) => o.outcome === 'terminated');
    expect(terminated.event_age_ms).toBeGreaterThanOrEqual(4_000);
    expect(terminated.event_age_ms).toBeLessThan(60_000);
    const audited = local.eventBridge.events.find((e) => e['detail-type'] === 'PAM Session Terminated');
    expect((audited!.detail as { event_age_ms: number }).event_age_ms).toBe(terminated.event_age_ms);
    expect(output.text()).toMatch(
      /"CloudWatchMetrics":\[\{"Namespace":"PamSessionResponder","Dimensions":\[\["service","trigger"\]\],"Metrics":\[\{"Name":"TimeToCut","Unit":"Milliseconds"\}\]\}\]\},"service":"pam-session-responder","trigger":"request","TimeToCut":\d+/,
    );
  });

  it('logs each outcome and a metric per outcome', async () => {
    const mark = output.text().length;
    await drop(eventFixture('termination-request-by-match'), lambdaContext());
    const logs = output.text().slice(mark);
    expect(logs).toMatch(/"message":"Session outcome".*"outcome":"terminated"/);
    expect(logs).toMatch(/"_aws":\{"Timestamp":\d+,"CloudWatchMetrics":\[\{"Namespace":"PamSessionResponder"/);
    // The fixture matches aoliveira's two open sessions: one log line each, one metric counting both.
    expect(logs.match(/"message":"Session outcome"/g)).toHaveLength(2);
    expect(logs).toMatch(/"terminated":2/);
  });
});

describe('POST /sessions/terminate', () => {
  const post = (body: unknown, raw?: string) => ({
    ...httpApiEvent({ method: 'POST', routeKey: 'POST /sessions/terminate', rawPath: '/sessions/terminate' }),
    body: raw ?? JSON.stringify(body),
  });

  it('previews with dry_run and answers 200 with the outcomes, the caller as requester', async () => {
    const { statusCode, body } = asJson(
      await drop(post({ match: { user: 'aoliveira' }, reason: 'preview', dry_run: true }), lambdaContext()),
    );
    expect(statusCode).toBe(200);
    expect(body.outcomes.map((outcome: { outcome: string }) => outcome.outcome)).toEqual([
      'would_terminate',
      'would_terminate',
    ]);
    expect(body.requested_by).toBe('arn:aws:sts::123456789012:assumed-role/SocAnalyst/soc-analyst');
    expect(dropped()).toEqual([]);
  });

  it('terminates by ids', async () => {
    const { body } = asJson(
      await drop(post({ session_ids: [idOf('mchen', '10.66.40.21:3389')], reason: 'ticket INC-311' }), lambdaContext()),
    );
    expect(body.summary).toEqual({ terminated: 1 });
  });

  it.each([
    ['not JSON', '{"match":', 'the request body is not valid JSON'],
    ['empty', '', 'the request body is empty; send the termination request as JSON'],
    [
      'too large',
      JSON.stringify({ reason: 'x'.repeat(70_000), session_id: 'a' }),
      'the request body is larger than 65536 bytes',
    ],
  ])('refuses a body that is %s with 400', async (_label, raw, message) => {
    const { statusCode, body } = asJson(await drop(post(undefined, raw), lambdaContext()));
    expect({ statusCode, body }).toEqual({ statusCode: 400, body: { error: { code: 'invalid_request', message } } });
    expect(local.pam.requests).toHaveLength(0);
  });

  it.each([
    [
      { origin_ip: '10.0.0.0/8' },
      'match.origin_ip 10.0.0.0/8 is wider than /16, the widest IPv4 block a request may name: name a narrower block, or lower MIN_PREFIX_LENGTH_IPV4 (16) for the deployment',
    ],
    [{ device: '10.66.50.9:0' }, 'match.device has a port that is not 1 to 65535 ("0")'],
  ])('refuses the match %j with 400, before asking PAM anything', async (match, message) => {
    const { statusCode, body } = asJson(await drop(post({ match, reason: 'r' }), lambdaContext()));
    expect({ statusCode, body }).toEqual({ statusCode: 400, body: { error: { code: 'invalid_request', message } } });
    expect(local.pam.requests).toHaveLength(0);
  });
});
