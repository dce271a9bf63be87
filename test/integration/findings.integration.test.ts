import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../infra/local/lambda-events.js';
import { type LocalPam, startLocalPam } from '../../infra/local/local-pam.js';
import { eventFixture } from '../support/fixtures.js';
import { type Handler, loadHandler } from '../support/handlers.js';
import { resetLocalPam } from '../support/local-reset.js';

// Issue 19's findings, each through the built drop bundle against the simulator: what a real account sends.
let local: LocalPam;
let drop: Handler;

beforeAll(async () => {
  local = await startLocalPam();
  Object.assign(process.env, local.env, { PAM_RETRY_BASE_DELAY_MS: '5' });
  drop = await loadHandler('drop', 'bundle');
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  await resetLocalPam(local);
});

const dropped = () =>
  local.pam.requests.filter((request) => request.endpoint === 'drop').map((request) => request.path.split('/').pop());
const idOf = (user: string, device: string) =>
  local.pam.sessions.find((s) => s.user === user && s.device === device && s.end === null)?.session_id ?? '';
const ignoredAudits = () =>
  local.eventBridge.events
    .filter((event) => event['detail-type'] === 'PAM Session Termination Ignored')
    .map((event) => (event.detail as { ignored: string }).ignored);

/** A new active session, as if the administrator connected again. */
function reconnect(user: string, device: string): string {
  const template = local.pam.sessions.find((s) => s.user === user && s.device === device);
  if (!template) throw new Error('seed changed');
  const sessionId = 'c'.repeat(40);
  local.pam.sessions.push({ ...template, id: '9801', session_id: sessionId, end: null, time: null });
  local.pam.sessionsChanged();
  return sessionId;
}

/** What Security Hub emits after a BatchUpdateFindings: the finding with the update applied, UpdatedAt unchanged. */
function importedAfterWriteBack(fixture: string): Record<string, any> {
  const [update] = local.securityHub.updates;
  if (!update) throw new Error('nothing was written back');
  const event = eventFixture(fixture);
  const [finding] = event.detail.findings;
  event.id = 'b7d2e9f4-0c61-4a3e-8f25-6e1d0a9c7b34';
  if (update.Workflow) finding.Workflow = update.Workflow;
  finding.Note = { ...update.Note, UpdatedAt: new Date().toISOString() };
  return event;
}

describe('its own write-back does not feed it', () => {
  it('an Imported event for its NOTIFIED write-back touches no PAM, and spares the administrator who reconnected', async () => {
    // Seen: each BatchUpdateFindings re-triggered drop: a full PAM list, and a reconnected admin cut again.
    const first = await drop(eventFixture('securityhub-imported-high'), lambdaContext());
    expect(first.summary).toEqual({ terminated: 1 });
    expect(local.securityHub.updates[0]?.Workflow).toEqual({ Status: 'NOTIFIED' });
    const again = reconnect('mchen', '10.66.40.21:3389');
    local.pam.requests.length = 0;
    const echo = await drop(importedAfterWriteBack('securityhub-imported-high'), lambdaContext());
    expect(echo).toMatchObject({
      outcomes: [],
      ignored: expect.stringMatching(/workflow status is NOTIFIED, not NEW$/),
    });
    expect(local.pam.requests).toEqual([]);
    expect(idOf('mchen', '10.66.40.21:3389')).toBe(again);
  });

  it('nor does the Imported event for a note alone (nothing matched, the workflow left NEW)', async () => {
    local.pam.sessions.splice(0, local.pam.sessions.length);
    local.pam.sessionsChanged();
    const first = await drop(eventFixture('securityhub-imported-high'), lambdaContext());
    expect(first.outcomes).toEqual([]);
    expect(local.securityHub.updates[0]?.Workflow).toBeUndefined();
    local.pam.requests.length = 0;
    local.eventBridge.events.length = 0;
    const echo = await drop(importedAfterWriteBack('securityhub-imported-high'), lambdaContext());
    expect(echo.ignored).toMatch(/its last change is this product's own note/);
    expect(local.pam.requests).toEqual([]);
    expect(ignoredAudits()).toEqual([echo.ignored]);
  });
});

describe('one GuardDuty finding, one identity', () => {
  it("gives GuardDuty's event and Security Hub's copy the same finding key, and a newer version another", async () => {
    // Seen: both rules fired for one finding; the lead keys Powertools Idempotency on trigger.finding_keys.
    const direct = await drop(eventFixture('guardduty-cryptocurrency-instance'), lambdaContext());
    expect(direct.summary).toEqual({ terminated: 1 });
    const asked = local.pam.requests.length;
    const copy = await drop(eventFixture('securityhub-imported-guardduty-copy'), lambdaContext());
    // The copy is the same finding version: it gets the first response, and PAM is asked nothing.
    expect(copy).toEqual(direct);
    expect(local.pam.requests).toHaveLength(asked);
    const key =
      'arn:aws:guardduty:us-east-1:123456789012:detector/2cb1a8e7d3f04b6c9e0a1b2c3d4e5f60/finding/7ec4b1e0f2a34c5d8e9f0a1b2c3d4e5f@2026-11-23T09:12:40.103Z';
    expect(direct.trigger.finding_keys).toEqual([key]);
    expect(copy.trigger.finding_keys).toEqual([key]);
    const updated = eventFixture('guardduty-cryptocurrency-instance');
    updated.detail.updatedAt = '2026-11-23T15:12:40.103Z';
    expect((await drop(updated, lambdaContext())).trigger.finding_keys).toEqual([key.replace('T09:', 'T15:')]);
  });
});

describe('vulnerabilities and posture never act like intrusions', () => {
  it.each([
    ['securityhub-imported-inspector-cve', undefined],
    ['securityhub-imported-control-failed', undefined],
    ['securityhub-imported-inspector-cve', 'arn:*:securityhub:*::product/aws/*'],
    ['securityhub-imported-control-failed', 'arn:*:securityhub:*::product/aws/*'],
  ])('%s (products %s) cuts no session into its instance and is audited as ignored', async (fixture, products) => {
    // Seen: with product/aws/* by default, a critical CVE or a failed control cut every PAM session into the instance.
    if (products) process.env.SECURITYHUB_PRODUCTS = products;
    try {
      const report = await drop(eventFixture(fixture), lambdaContext());
      const why = products ? /is not an intrusion$/ : /is not in SECURITYHUB_PRODUCTS$/;
      expect(report).toMatchObject({ outcomes: [], ignored: expect.stringMatching(why) });
      expect(local.pam.requests).toEqual([]);
      expect(idOf('mchen', '10.66.40.21:3389')).not.toBe('');
      expect(ignoredAudits()).toEqual([report.ignored]);
    } finally {
      delete process.env.SECURITYHUB_PRODUCTS;
    }
  });
});

describe('findings act only in scope', () => {
  /** The crypto-mining finding, from an unrelated account whose instance happens to use the same private address. */
  function fromAnotherAccount(): Record<string, any> {
    const event = eventFixture('guardduty-cryptocurrency-instance');
    for (const field of ['arn', 'accountId'] as const)
      event.detail[field] = event.detail[field].replace('123456789012', '210987654321');
    event.account = '210987654321';
    return event;
  }

  it("ignores another account's instance with the same private IP, with an audit event saying why", async () => {
    // Seen: a finding in an unrelated account cut the administrator's session into this account's 10.66.50.9.
    const report = await drop(fromAnotherAccount(), lambdaContext());
    expect(report.ignored).toBe(
      "account 210987654321 is not one whose findings act (123456789012: FINDING_ACCOUNTS, else this deployment's own)",
    );
    expect(local.pam.requests).toEqual([]);
    expect(idOf('aoliveira', '10.66.50.9:22')).not.toBe('');
    expect(ignoredAudits()).toEqual([report.ignored]);
  });

  it('acts on another account listed in FINDING_ACCOUNTS, and on none of the own account once it is not listed', async () => {
    process.env.FINDING_ACCOUNTS = '210987654321';
    try {
      expect((await drop(fromAnotherAccount(), lambdaContext())).summary).toEqual({ terminated: 1 });
      const own = await drop(eventFixture('securityhub-imported-high'), lambdaContext());
      expect(own.ignored).toMatch(/account 123456789012 is not one whose findings act \(210987654321/);
    } finally {
      delete process.env.FINDING_ACCOUNTS;
    }
  });

  it('with DEVICE_VPCS, ignores an instance outside them', async () => {
    process.env.DEVICE_VPCS = 'vpc-0fedcba9876543210';
    try {
      const report = await drop(eventFixture('guardduty-cryptocurrency-instance'), lambdaContext());
      expect(report.ignored).toBe('instance i-0a1b2c3d4e5f60718 is in vpc-0123456789abcdef0, not in DEVICE_VPCS');
      expect(local.pam.requests).toEqual([]);
    } finally {
      delete process.env.DEVICE_VPCS;
    }
  });

  it("cuts the sessions to the instance's IPv6 address, like those to its IPv4 ones", async () => {
    // Seen: networkInterfaces[].ipv6Addresses were ignored, so a session to the instance by IPv6 stayed.
    const template = local.pam.sessions.find((s) => s.device === '10.66.50.9:22' && s.end === null);
    if (!template) throw new Error('seed changed');
    const byIpv6 = { ...template, id: '9802', session_id: 'd'.repeat(40), device: '[2600:1f18:66:5000::9]:22' };
    local.pam.sessions.push(byIpv6);
    local.pam.sessionsChanged();
    const event = eventFixture('guardduty-cryptocurrency-instance');
    event.detail.resource.instanceDetails.networkInterfaces[0].ipv6Addresses = ['2600:1f18:66:5000::9'];
    const report = await drop(event, lambdaContext());
    expect(dropped().sort()).toEqual([byIpv6.session_id, template.session_id].sort());
    expect(report.summary).toEqual({ terminated: 2 });
  });
});
