import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/core/errors.js';
import { guardDutyTargets, securityHubTargets } from '../../lib/termination/finding-targets.js';
import { eventFixture } from '../support/fixtures.js';

const RULES = { minSeverity: 7, accounts: new Set<string>() };
const IMPORTED = { labels: new Set(['HIGH', 'CRITICAL']), products: ['arn:*:securityhub:*::product/aws/*'] };

describe('GuardDuty findings', () => {
  it('targets the sessions into every private IP of an instance that acts (ACTOR), not those from where it reached', () => {
    const targets = guardDutyTargets(eventFixture('guardduty-cryptocurrency-instance').detail, RULES);
    expect(targets.criteria).toEqual([{ device: '10.66.50.9' }, { device: '10.66.50.11' }]);
    expect(targets).toMatchObject({
      findingId: '7ec4b1e0f2a34c5d8e9f0a1b2c3d4e5f',
      reason: expect.stringMatching(
        /^GuardDuty finding CryptoCurrency:EC2\/BitcoinTool\.B \(severity 8, resource role ACTOR\): EC2 instance/,
      ),
    });
    expect(targets.ignored).toBeUndefined();
  });

  it('targets the sessions from the attackers of an instance that is attacked (TARGET), never those into it', () => {
    const targets = guardDutyTargets(eventFixture('guardduty-rdp-bruteforce-inbound').detail, RULES);
    expect(targets.criteria).toEqual([{ origin_ip: '203.0.113.77' }]);
  });

  it('targets both without a resource role', () => {
    const detail = eventFixture('guardduty-cryptocurrency-instance').detail;
    delete detail.service.resourceRole;
    expect(guardDutyTargets(detail, RULES).criteria).toEqual([
      { device: '10.66.50.9' },
      { device: '10.66.50.11' },
      { origin_ip: '198.51.100.23' },
    ]);
  });

  it.each([
    [
      'a sample (CreateSampleFindings), as a flag',
      (d: any) => (d.service.additionalInfo = { sample: true }),
      'it is a sample finding (CreateSampleFindings)',
    ],
    [
      'a sample, inside additionalInfo.value',
      (d: any) => (d.service.additionalInfo = { value: '{"sample":true}', type: 'default' }),
      'it is a sample finding (CreateSampleFindings)',
    ],
    ['archived', (d: any) => (d.service.archived = true), 'it is archived'],
  ])('ignores a finding that is %s', (_name, change, why) => {
    const detail = eventFixture('guardduty-cryptocurrency-instance').detail;
    change(detail);
    expect(guardDutyTargets(detail, RULES).ignored).toBe(why);
  });

  it('counts only the accounts of GUARDDUTY_ACCOUNTS, when it is set', () => {
    const detail = eventFixture('guardduty-cryptocurrency-instance').detail;
    expect(guardDutyTargets(detail, { minSeverity: 7, accounts: new Set(['123456789012']) }).ignored).toBeUndefined();
    expect(guardDutyTargets(detail, { minSeverity: 7, accounts: new Set(['210987654321']) }).ignored).toBe(
      'account 123456789012 is not in GUARDDUTY_ACCOUNTS',
    );
  });

  it('finds remote addresses under every action type', () => {
    const probe = guardDutyTargets(eventFixture('guardduty-port-probe-low-severity').detail, RULES);
    expect(probe.criteria).toContainEqual({ origin_ip: '203.0.113.77' });
    const apiCall = eventFixture('guardduty-cryptocurrency-instance').detail;
    apiCall.resource = { resourceType: 'AccessKey', accessKeyDetails: { userName: 'ci-deployer' } };
    apiCall.service.resourceRole = 'TARGET';
    apiCall.service.action = {
      actionType: 'AWS_API_CALL',
      awsApiCallAction: {
        api: 'GetSecretValue',
        serviceName: 'secretsmanager.amazonaws.com',
        remoteIpDetails: { ipAddressV4: '192.0.2.10', ipAddressV6: '2001:db8::10' },
      },
    };
    expect(guardDutyTargets(apiCall, RULES).criteria).toEqual([
      { origin_ip: '192.0.2.10' },
      { origin_ip: '2001:db8::10' },
    ]);
  });

  it('marks a finding below the threshold as ignored', () => {
    expect(guardDutyTargets(eventFixture('guardduty-port-probe-low-severity').detail, RULES).ignored).toBe(
      'severity 2 is below the threshold 7',
    );
  });

  it('refuses a detail without id, type or numeric severity', () => {
    const detail = eventFixture('guardduty-cryptocurrency-instance').detail;
    detail.severity = 'HIGH';
    expect(() => guardDutyTargets(detail, RULES)).toThrow(
      new ValidationError('GuardDuty finding: detail.severity must be a number'),
    );
  });

  it('drops values that are not IP addresses', () => {
    const detail = eventFixture('guardduty-cryptocurrency-instance').detail;
    detail.resource.instanceDetails.networkInterfaces[0].privateIpAddress = 'GeneratedFindingPrivateIp';
    detail.resource.instanceDetails.networkInterfaces[0].privateIpAddresses = [];
    detail.service.action.networkConnectionAction.remoteIpDetails.ipAddressV4 = '';
    expect(guardDutyTargets(detail, RULES).criteria).toEqual([]);
  });

  it('keeps single addresses in any standard form and leaves out what could be read two ways', () => {
    const detail = eventFixture('guardduty-cryptocurrency-instance').detail;
    const [eni] = detail.resource.instanceDetails.networkInterfaces;
    eni.privateIpAddress = '010.066.050.009';
    eni.privateIpAddresses = [{ privateIpAddress: 'fe80::1%eth0' }, { privateIpAddress: '2001:0db8::0010' }];
    detail.service.action.networkConnectionAction.remoteIpDetails.ipAddressV4 = '::ffff:198.51.100.23';
    delete detail.service.resourceRole;
    expect(guardDutyTargets(detail, RULES).criteria).toEqual([
      { device: '2001:0db8::0010' },
      { origin_ip: '::ffff:198.51.100.23' },
    ]);
  });
});

describe('Security Hub ASFF findings', () => {
  it('targets the sessions from Network.SourceIpV4 of inbound traffic at the configured labels, not into the target', () => {
    const targets = securityHubTargets(eventFixture('securityhub-imported-high').detail, IMPORTED);
    expect(targets.criteria).toEqual([{ origin_ip: '10.20.4.18' }]);
    expect(targets.findingTitle).toBe('10.20.4.18 is performing RDP brute force attacks against i-0c1d2e3f4a5b6c7d8.');
    expect(targets.ignored).toBeUndefined();
  });

  it('ignores imported findings below the labels', () => {
    const targets = securityHubTargets(eventFixture('securityhub-imported-medium').detail, IMPORTED);
    expect(targets.criteria).toEqual([]);
    expect(targets.ignored).toMatch(/^no finding to act on: .*: severity MEDIUM is not HIGH or CRITICAL$/);
  });

  it("acts only on findings of the allowed products: not one imported on the account's own product", () => {
    const detail = eventFixture('securityhub-imported-high').detail;
    detail.findings[0].ProductArn = 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default';
    detail.findings[0].CompanyName = 'Personal';
    const targets = securityHubTargets(detail, IMPORTED);
    expect(targets.criteria).toEqual([]);
    expect(targets.ignored).toMatch(
      /product arn:aws:securityhub:us-east-1:123456789012:product\/123456789012\/default is not in SECURITYHUB_PRODUCTS/,
    );
  });

  it('checks each finding itself: an archived CRITICAL one and an active LOW one (which EventBridge matches together) act on nothing', () => {
    const detail = eventFixture('securityhub-imported-high').detail;
    const archived = {
      ...detail.findings[0],
      Id: 'archived',
      Severity: { Label: 'CRITICAL' },
      RecordState: 'ARCHIVED',
    };
    const low = { ...detail.findings[0], Id: 'low', Severity: { Label: 'LOW' } };
    const resolved = { ...detail.findings[0], Id: 'resolved', Workflow: { Status: 'RESOLVED' } };
    const targets = securityHubTargets({ ...detail, findings: [archived, low, resolved] }, IMPORTED);
    expect(targets.criteria).toEqual([]);
    expect(targets.ignored).toBe(
      'no finding to act on: archived: record state is ARCHIVED; low: severity LOW is not HIGH or CRITICAL; resolved: workflow status is RESOLVED',
    );
  });

  it('acts on the findings that pass and says which were left out', () => {
    const detail = eventFixture('securityhub-imported-high').detail;
    const archived = {
      ...detail.findings[0],
      Id: 'archived',
      RecordState: 'ARCHIVED',
      Network: { SourceIpV4: '10.9.9.9', Direction: 'IN' },
    };
    const targets = securityHubTargets({ ...detail, findings: [detail.findings[0], archived] }, IMPORTED);
    expect(targets.criteria).toEqual([{ origin_ip: '10.20.4.18' }]);
    expect(targets.reason).toMatch(/\(1 of 2 findings left out: archived: record state is ARCHIVED\)$/);
  });

  it('acts on a custom action whatever the label, and says so in the reason', () => {
    const targets = securityHubTargets(eventFixture('securityhub-custom-action').detail, undefined);
    expect(targets.criteria).toEqual([{ device: '10.66.33.17' }, { device: '10.66.40.1' }]);
    expect(targets.reason).toBe(
      'Security Hub via custom action "Cut PAM sessions": Unusual SSH activity on jump hosts i-04a5b6c7d8e9f0a1b',
    );
  });

  it('refuses an event without findings', () => {
    expect(() => securityHubTargets({ findings: [] }, undefined)).toThrow(ValidationError);
    expect(() => securityHubTargets({}, undefined)).toThrow(ValidationError);
  });
});
