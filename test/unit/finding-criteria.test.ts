import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/core/errors.js';
import { guardDutyTargets, securityHubTargets } from '../../lib/termination/finding-targets.js';
import { eventFixture } from '../support/fixtures.js';

const SCOPE = { accounts: new Set(['123456789012']), deviceVpcs: new Set<string>() };
const RULES = { minSeverity: 7, scope: SCOPE };
const IMPORTED = { labels: new Set(['HIGH', 'CRITICAL']), products: ['arn:*:securityhub:*::product/aws/guardduty'] };

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

  it('counts only the accounts in scope', () => {
    const detail = eventFixture('guardduty-cryptocurrency-instance').detail;
    const scoped = (accounts: string[]) => ({ minSeverity: 7, scope: { ...SCOPE, accounts: new Set(accounts) } });
    expect(guardDutyTargets(detail, scoped(['210987654321', '123456789012'])).ignored).toBeUndefined();
    expect(guardDutyTargets(detail, scoped(['210987654321'])).ignored).toBe(
      "account 123456789012 is not one whose findings act (210987654321: FINDING_ACCOUNTS, else this deployment's own)",
    );
    delete detail.accountId;
    expect(guardDutyTargets(detail, RULES).ignored).toMatch(/^account \(none\) is not one whose findings act/);
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
    const targets = securityHubTargets(eventFixture('securityhub-imported-high').detail, SCOPE, IMPORTED);
    expect(targets.criteria).toEqual([{ origin_ip: '10.20.4.18' }]);
    expect(targets.findingTitle).toBe('10.20.4.18 is performing RDP brute force attacks against i-0c1d2e3f4a5b6c7d8.');
    expect(targets.ignored).toBeUndefined();
  });

  it('ignores imported findings below the labels', () => {
    const targets = securityHubTargets(eventFixture('securityhub-imported-medium').detail, SCOPE, IMPORTED);
    expect(targets.criteria).toEqual([]);
    expect(targets.ignored).toMatch(/^no finding to act on: .*: severity MEDIUM is not HIGH or CRITICAL$/);
  });

  it("acts only on findings of the allowed products: not one imported on the account's own product", () => {
    const detail = eventFixture('securityhub-imported-high').detail;
    detail.findings[0].ProductArn = 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default';
    detail.findings[0].CompanyName = 'Personal';
    const targets = securityHubTargets(detail, SCOPE, IMPORTED);
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
    const targets = securityHubTargets({ ...detail, findings: [archived, low, resolved] }, SCOPE, IMPORTED);
    expect(targets.criteria).toEqual([]);
    expect(targets.ignored).toBe(
      'no finding to act on: archived: record state is ARCHIVED; low: severity LOW is not HIGH or CRITICAL; resolved: workflow status is RESOLVED, not NEW',
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
    const targets = securityHubTargets({ ...detail, findings: [detail.findings[0], archived] }, SCOPE, IMPORTED);
    expect(targets.criteria).toEqual([{ origin_ip: '10.20.4.18' }]);
    expect(targets.reason).toMatch(/\(1 of 2 findings left out: archived: record state is ARCHIVED\)$/);
  });

  it('acts on a custom action whatever the label, and says so in the reason', () => {
    const targets = securityHubTargets(eventFixture('securityhub-custom-action').detail, SCOPE, undefined);
    expect(targets.criteria).toEqual([{ device: '10.66.33.17' }, { device: '10.66.40.1' }]);
    expect(targets.reason).toBe(
      'Security Hub via custom action "Cut PAM sessions": Unusual SSH activity on jump hosts i-04a5b6c7d8e9f0a1b',
    );
  });

  it('refuses an event without findings', () => {
    expect(() => securityHubTargets({ findings: [] }, SCOPE, undefined)).toThrow(ValidationError);
    expect(() => securityHubTargets({}, SCOPE, undefined)).toThrow(ValidationError);
  });
});

const ALL_AWS = { ...IMPORTED, products: ['arn:*:securityhub:*::product/aws/*'] };
const inVpcs = (...vpcs: string[]) => ({ ...SCOPE, deviceVpcs: new Set(vpcs) });

describe('threat findings only (issue 19)', () => {
  it.each([
    ['securityhub-imported-inspector-cve', 'Software and Configuration Checks/Vulnerabilities/CVE'],
    ['securityhub-imported-control-failed', 'Software and Configuration Checks/Industry and Regulatory Standards'],
  ])(
    'ignores %s: its product is not allowed by default, and its type never acts even when opted in',
    (fixture, type) => {
      // Seen: with the old default (product/aws/*), a critical CVE or a failed control cut every session into the instance.
      const detail = eventFixture(fixture).detail;
      const byDefault = securityHubTargets(detail, SCOPE, IMPORTED);
      expect(byDefault).toMatchObject({
        criteria: [],
        ignored: expect.stringMatching(/is not in SECURITYHUB_PRODUCTS$/),
      });
      const optedIn = securityHubTargets(detail, SCOPE, ALL_AWS);
      expect(optedIn.criteria).toEqual([]);
      expect(optedIn.ignored).toBe(
        `no finding to act on: ${detail.findings[0].Id}: its type ${type} is not an intrusion`,
      );
    },
  );

  it('acts on intrusion types of an opted-in product, and never on a finding that also says vulnerability or sensitive data', () => {
    const detail = eventFixture('securityhub-imported-high').detail;
    const [finding] = detail.findings;
    finding.ProductArn = 'arn:aws:securityhub:us-east-1::product/aws/macie';
    expect(securityHubTargets(detail, SCOPE, IMPORTED).ignored).toMatch(
      /product\/aws\/macie is not in SECURITYHUB_PRODUCTS/,
    );
    for (const type of ['TTPs/Initial Access/x', 'Effects/Data Exfiltration/x', 'Unusual Behaviors/User/x']) {
      finding.Types = [type];
      expect(securityHubTargets(detail, SCOPE, ALL_AWS).ignored).toBeUndefined();
    }
    finding.Types = ['TTPs/Collection/x', 'Sensitive Data Identifications/PII/x'];
    expect(securityHubTargets(detail, SCOPE, ALL_AWS).ignored).toMatch(
      /: its type Sensitive Data Identifications\/PII\/x is not an intrusion$/,
    );
    finding.Types = ['Industry and Regulatory Standards/CIS'];
    expect(securityHubTargets(detail, SCOPE, ALL_AWS).ignored).toMatch(
      /: its types \(Industry and Regulatory Standards\/CIS\) do not say intrusion \(TTPs\/, Effects\/, Unusual Behaviors\/\)$/,
    );
    finding.Types = ['Industry and Regulatory Standards/CIS', 'Industry and Regulatory Standards/PCI-DSS'];
    expect(securityHubTargets(detail, SCOPE, ALL_AWS).ignored).toMatch(
      /: its types \(Industry and Regulatory Standards\/CIS, Industry and Regulatory Standards\/PCI-DSS\) do not say intrusion/,
    );
    delete finding.Types;
    expect(securityHubTargets(detail, SCOPE, ALL_AWS).ignored).toMatch(/: its types \(none\) do not say intrusion/);
  });

  it("ignores the Imported event of its own write-back: NOTIFIED, or NEW with the product's note as the last change", () => {
    // Seen: each BatchUpdateFindings re-emitted the finding as Imported (UpdatedAt unchanged) and drop acted again.
    const notified = eventFixture('securityhub-imported-write-back').detail;
    expect(securityHubTargets(notified, SCOPE, IMPORTED).ignored).toMatch(/: workflow status is NOTIFIED, not NEW$/);
    notified.findings[0].Workflow.Status = 'NEW';
    expect(securityHubTargets(notified, SCOPE, IMPORTED)).toMatchObject({
      criteria: [],
      ignored: expect.stringMatching(
        /: its last change is this product's own note \(pam-session-responder's write-back\)$/,
      ),
    });
    // GuardDuty updating the finding after the note (a newer UpdatedAt) is a new version: it acts.
    notified.findings[0].UpdatedAt = '2026-11-23T15:06:10.311Z';
    expect(securityHubTargets(notified, SCOPE, IMPORTED).ignored).toBeUndefined();
    // Another author's note is no reason to ignore.
    notified.findings[0].UpdatedAt = '2026-11-23T09:06:10.311Z';
    notified.findings[0].Note.UpdatedBy = 'arn:aws:iam::123456789012:user/analyst';
    expect(securityHubTargets(notified, SCOPE, IMPORTED).ignored).toBeUndefined();
  });
});

describe('scope: accounts and VPCs (issue 19)', () => {
  it("ignores another account's finding, imported or chosen by an analyst, whatever its instance's private address", () => {
    const other = { ...SCOPE, accounts: new Set(['210987654321']) };
    const imported = securityHubTargets(eventFixture('securityhub-imported-high').detail, other, IMPORTED);
    expect(imported).toMatchObject({
      criteria: [],
      ignored: expect.stringMatching(
        /: account 123456789012 is not one whose findings act \(210987654321: FINDING_ACCOUNTS/,
      ),
    });
    const chosen = securityHubTargets(eventFixture('securityhub-custom-action').detail, other, undefined);
    expect(chosen.criteria).toEqual([]);
    expect(chosen.ignored).toMatch(/account 123456789012 is not one whose findings act/);
  });

  it('with DEVICE_VPCS, acts only on instances in them, and maps only their addresses', () => {
    const gd = eventFixture('guardduty-cryptocurrency-instance').detail;
    expect(guardDutyTargets(gd, { ...RULES, scope: inVpcs('vpc-0123456789abcdef0') }).ignored).toBeUndefined();
    expect(guardDutyTargets(gd, { ...RULES, scope: inVpcs('vpc-0fedcba9876543210') }).ignored).toBe(
      'instance i-0a1b2c3d4e5f60718 is in vpc-0123456789abcdef0, not in DEVICE_VPCS',
    );
    // An instance with an interface in a second VPC: only the listed VPC's addresses are devices.
    const [eni] = gd.resource.instanceDetails.networkInterfaces;
    gd.resource.instanceDetails.networkInterfaces.push({
      ...eni,
      vpcId: 'vpc-0fedcba9876543210',
      privateIpAddress: '10.1.2.3',
      privateIpAddresses: [{ privateIpAddress: '10.1.2.3' }],
    });
    expect(guardDutyTargets(gd, { ...RULES, scope: inVpcs('vpc-0fedcba9876543210') }).criteria).toEqual([
      { device: '10.1.2.3' },
    ]);
    for (const eni of gd.resource.instanceDetails.networkInterfaces) delete eni.vpcId;
    expect(guardDutyTargets(gd, { ...RULES, scope: inVpcs('vpc-0fedcba9876543210') }).ignored).toBe(
      'instance i-0a1b2c3d4e5f60718 is in no VPC the finding names, not in DEVICE_VPCS',
    );
    const sh = eventFixture('securityhub-imported-guardduty-copy').detail;
    expect(securityHubTargets(sh, inVpcs('vpc-0123456789abcdef0'), IMPORTED).criteria).toEqual([
      { device: '10.66.50.9' },
      { device: '10.66.50.11' },
    ]);
    expect(securityHubTargets(sh, inVpcs('vpc-0fedcba9876543210'), IMPORTED).ignored).toMatch(
      /: instance arn:aws:ec2:us-east-1:123456789012:instance\/i-0a1b2c3d4e5f60718 is in vpc-0123456789abcdef0, not in DEVICE_VPCS$/,
    );
  });

  it("maps an instance's IPv6 addresses as devices, like its IPv4 ones", () => {
    // Seen: networkInterfaces[].ipv6Addresses were ignored, so sessions to the instance by IPv6 were missed.
    const gd = eventFixture('guardduty-cryptocurrency-instance').detail;
    gd.resource.instanceDetails.networkInterfaces[0].ipv6Addresses = ['2600:1f18:66:5000::9'];
    expect(guardDutyTargets(gd, RULES).criteria).toEqual([
      { device: '10.66.50.9' },
      { device: '10.66.50.11' },
      { device: '2600:1f18:66:5000::9' },
    ]);
    const sh = eventFixture('securityhub-imported-guardduty-copy').detail;
    sh.findings[0].Resources[0].Details.AwsEc2Instance.IpV6Addresses = ['2600:1f18:66:5000::9'];
    expect(securityHubTargets(sh, SCOPE, IMPORTED).criteria).toContainEqual({ device: '2600:1f18:66:5000::9' });
  });
});

describe('finding keys (issue 19)', () => {
  const GD_ARN =
    'arn:aws:guardduty:us-east-1:123456789012:detector/2cb1a8e7d3f04b6c9e0a1b2c3d4e5f60/finding/7ec4b1e0f2a34c5d8e9f0a1b2c3d4e5f';

  it("gives GuardDuty's event and Security Hub's copy of it the same key: the finding's ARN and update time", () => {
    // Seen: both rules fired for one GuardDuty finding, and the second copy cut a session opened after the first.
    const gd = guardDutyTargets(eventFixture('guardduty-cryptocurrency-instance').detail, RULES);
    const sh = securityHubTargets(eventFixture('securityhub-imported-guardduty-copy').detail, SCOPE, IMPORTED);
    expect(gd.findingKeys).toEqual([`${GD_ARN}@2026-11-23T09:12:40.103Z`]);
    expect(sh.findingKeys).toEqual(gd.findingKeys);
  });

  it('builds the ARN from the finding when the event leaves it out, and keys a newer version apart', () => {
    const detail = eventFixture('guardduty-cryptocurrency-instance').detail;
    delete detail.arn;
    expect(guardDutyTargets(detail, RULES).findingKeys).toEqual([`${GD_ARN}@2026-11-23T09:12:40.103Z`]);
    detail.updatedAt = '2026-11-23T15:12:40.103Z';
    expect(guardDutyTargets(detail, RULES).findingKeys).toEqual([`${GD_ARN}@2026-11-23T15:12:40.103Z`]);
    delete detail.service.detectorId;
    expect(() => guardDutyTargets(detail, RULES)).toThrow(/without detail.arn, its ARN needs/);
  });

  it('keys only the findings acted on: none for an ignored finding, none for a custom action (keyed by its event)', () => {
    const sample = eventFixture('guardduty-cryptocurrency-instance').detail;
    sample.service.archived = true;
    expect(guardDutyTargets(sample, RULES).findingKeys).toBeUndefined();
    expect(
      securityHubTargets(eventFixture('securityhub-imported-write-back').detail, SCOPE, IMPORTED).findingKeys,
    ).toBeUndefined();
    expect(
      securityHubTargets(eventFixture('securityhub-custom-action').detail, SCOPE, undefined).findingKeys,
    ).toBeUndefined();
    const two = eventFixture('securityhub-imported-high').detail;
    const copy = eventFixture('securityhub-imported-guardduty-copy').detail.findings[0];
    two.findings.push(copy, { ...copy, Id: 'archived', RecordState: 'ARCHIVED' });
    expect(securityHubTargets(two, SCOPE, IMPORTED).findingKeys).toEqual([
      'arn:aws:guardduty:us-east-1:123456789012:detector/2cb1a8e7d3f04b6c9e0a1b2c3d4e5f60/finding/3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f@2026-11-23T09:06:10.311Z',
      `${GD_ARN}@2026-11-23T09:12:40.103Z`,
    ]);
  });
});

describe('the rules at their edges (mutation survivors, issue 24)', () => {
  it('acts on a GuardDuty finding of exactly the threshold severity', () => {
    const detail = eventFixture('guardduty-port-probe-low-severity').detail;
    expect(guardDutyTargets(detail, { ...RULES, minSeverity: 2 }).ignored).toBeUndefined();
    expect(guardDutyTargets(detail, { ...RULES, minSeverity: 2.1 }).ignored).toBe(
      'severity 2 is below the threshold 2.1',
    );
  });

  it('acts on an instance without network interfaces when no DEVICE_VPCS is set', () => {
    const detail = eventFixture('guardduty-cryptocurrency-instance').detail;
    delete detail.resource.instanceDetails.networkInterfaces;
    expect(guardDutyTargets(detail, RULES).ignored).toBeUndefined();
  });

  it('acts on an instance with one interface in DEVICE_VPCS and another outside them', () => {
    const detail = eventFixture('guardduty-cryptocurrency-instance').detail;
    const [eni] = detail.resource.instanceDetails.networkInterfaces;
    detail.resource.instanceDetails.networkInterfaces.push({ ...eni, vpcId: 'vpc-0fedcba9876543210' });
    const scope = { ...SCOPE, deviceVpcs: new Set(['vpc-0fedcba9876543210']) };
    expect(guardDutyTargets(detail, { ...RULES, scope }).ignored).toBeUndefined();
  });

  it('takes a note of ours at exactly UpdatedAt for its own write-back', () => {
    const detail = eventFixture('securityhub-imported-write-back').detail;
    detail.findings[0].Workflow.Status = 'NEW';
    detail.findings[0].Note.UpdatedAt = detail.findings[0].UpdatedAt;
    expect(securityHubTargets(detail, SCOPE, IMPORTED).ignored).toMatch(/its last change is this product's own note/);
  });

  it("without GuardDuty's resource role, takes outbound traffic (Network.Direction OUT) for an actor: sessions into it", () => {
    const detail = eventFixture('securityhub-imported-guardduty-copy').detail;
    delete detail.findings[0].ProductFields['aws/guardduty/service/resourceRole'];
    expect(securityHubTargets(detail, SCOPE, IMPORTED).criteria).toEqual([
      { device: '10.66.50.9' },
      { device: '10.66.50.11' },
    ]);
    // Without a direction either: both, as without a role.
    delete detail.findings[0].Network.Direction;
    expect(securityHubTargets(detail, SCOPE, IMPORTED).criteria).toEqual([
      { device: '10.66.50.9' },
      { device: '10.66.50.11' },
      { origin_ip: '10.66.50.9' },
    ]);
  });

  it('acts on a product that any one of SECURITYHUB_PRODUCTS allows', () => {
    const detail = eventFixture('securityhub-imported-high').detail;
    const rules = { ...IMPORTED, products: ['arn:aws:securityhub:*::product/aws/macie', ...IMPORTED.products] };
    expect(securityHubTargets(detail, SCOPE, rules).ignored).toBeUndefined();
  });

  it('says when a GuardDuty finding gives no resource role', () => {
    const detail = eventFixture('guardduty-cryptocurrency-instance').detail;
    delete detail.service.resourceRole;
    expect(guardDutyTargets(detail, RULES).reason).toMatch(/, resource role not given\): /);
  });

  it('lists the accounts that may act (or none), and names every VPC of an instance out of DEVICE_VPCS', () => {
    const detail = eventFixture('guardduty-cryptocurrency-instance').detail;
    const none = { ...RULES, scope: { ...SCOPE, accounts: new Set<string>() } };
    expect(guardDutyTargets(detail, none).ignored).toMatch(/is not one whose findings act \(none: FINDING_ACCOUNTS/);
    const others = { ...RULES, scope: { ...SCOPE, accounts: new Set(['210987654321', '111122223333']) } };
    expect(guardDutyTargets(detail, others).ignored).toMatch(/act \(210987654321, 111122223333: FINDING_ACCOUNTS/);
    const [eni] = detail.resource.instanceDetails.networkInterfaces;
    detail.resource.instanceDetails.networkInterfaces.push({ ...eni, vpcId: 'vpc-0fedcba9876543210' });
    const elsewhere = { ...RULES, scope: { ...SCOPE, deviceVpcs: new Set(['vpc-0aaaaaaaaaaaaaaaa']) } };
    expect(guardDutyTargets(detail, elsewhere).ignored).toBe(
      'instance i-0a1b2c3d4e5f60718 is in vpc-0123456789abcdef0, vpc-0fedcba9876543210, not in DEVICE_VPCS',
    );
  });
});

describe('what the operator reads of a finding, and its less common shapes (mutation survivors, issue 24)', () => {
  const imported = () => eventFixture('securityhub-imported-high').detail;
  const TITLE = '10.20.4.18 is performing RDP brute force attacks against i-0c1d2e3f4a5b6c7d8.';

  it('acts on a finding whose additionalInfo has no value, or a value that is not JSON: neither says sample', () => {
    const detail = eventFixture('guardduty-rdp-bruteforce-inbound').detail;
    detail.service.additionalInfo = { type: 'default' };
    expect(guardDutyTargets(detail, RULES).ignored).toBeUndefined();
    detail.service.additionalInfo = { value: 'sample', type: 'default' };
    expect(guardDutyTargets(detail, RULES).ignored).toBeUndefined();
  });

  it('reads remote addresses with spaces around them as one, and skips a remoteIpDetails that is null', () => {
    const detail = eventFixture('guardduty-port-probe-low-severity').detail;
    const [probe] = detail.service.action.portProbeAction.portProbeDetails;
    detail.service.action.portProbeAction.portProbeDetails = [
      { ...probe, remoteIpDetails: null },
      { ...probe, remoteIpDetails: { ipAddressV4: ' 203.0.113.77 ' } },
      probe,
    ];
    expect(guardDutyTargets(detail, { ...RULES, minSeverity: 1 }).criteria).toEqual([{ origin_ip: '203.0.113.77' }]);
  });

  it('names an instance without an id "(no id)" when it is out of DEVICE_VPCS', () => {
    const detail = eventFixture('guardduty-cryptocurrency-instance').detail;
    delete detail.resource.instanceDetails.instanceId;
    expect(guardDutyTargets(detail, { ...RULES, scope: inVpcs('vpc-0aaaaaaaaaaaaaaaa') }).ignored).toBe(
      'instance (no id) is in vpc-0123456789abcdef0, not in DEVICE_VPCS',
    );
    const asff = imported();
    delete asff.findings[0].Resources[0].Id;
    expect(securityHubTargets(asff, inVpcs('vpc-0aaaaaaaaaaaaaaaa'), IMPORTED).ignored).toBe(
      'no finding to act on: arn:aws:guardduty:us-east-1:123456789012:detector/2cb1a8e7d3f04b6c9e0a1b2c3d4e5f60/finding/3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f: instance (no id) is in vpc-0123456789abcdef0, not in DEVICE_VPCS',
    );
  });

  it.each([
    ['no ProductArn', (f: any) => delete f.ProductArn, /: product \(none\) is not in SECURITYHUB_PRODUCTS$/],
    ['no Types', (f: any) => delete f.Types, /: its types \(none\) do not say intrusion \(TTPs\/, Effects\//],
    ['no Severity', (f: any) => delete f.Severity, /: severity \(none\) is not HIGH or CRITICAL$/],
    ['no Workflow', (f: any) => delete f.Workflow, /: workflow status is \(none\), not NEW$/],
  ])('says what an imported finding with %s lacks', (_name, change, why) => {
    const detail = imported();
    change(detail.findings[0]);
    expect(securityHubTargets(detail, SCOPE, IMPORTED).ignored).toMatch(why);
  });

  it('takes an imported finding without RecordState for an active one', () => {
    const detail = imported();
    delete detail.findings[0].RecordState;
    expect(securityHubTargets(detail, SCOPE, IMPORTED).ignored).toBeUndefined();
  });

  it('with DEVICE_VPCS, acts on a finding that names no instance (its source address), and maps only the instances in them', () => {
    const detail = imported();
    delete detail.findings[0].Resources;
    expect(securityHubTargets(detail, inVpcs('vpc-0aaaaaaaaaaaaaaaa'), IMPORTED).criteria).toEqual([
      { origin_ip: '10.20.4.18' },
    ]);
    const custom = eventFixture('securityhub-custom-action').detail;
    const [instance] = custom.findings[0].Resources;
    custom.findings[0].Resources = [
      instance,
      {
        ...instance,
        Id: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0ffffffffffffffff',
        Details: { AwsEc2Instance: { IpV4Addresses: ['10.99.0.5'], VpcId: 'vpc-0fedcba9876543210' } },
      },
    ];
    const scope = inVpcs(instance.Details.AwsEc2Instance.VpcId);
    const targets = securityHubTargets(custom, scope, undefined);
    expect(targets.ignored).toBeUndefined();
    expect(targets.criteria).not.toContainEqual({ device: '10.99.0.5' });
    expect(targets.criteria.length).toBeGreaterThan(0);
  });

  it('names every instance of a finding out of DEVICE_VPCS, separated', () => {
    const detail = imported();
    const [instance] = detail.findings[0].Resources;
    detail.findings[0].Resources.push({ ...instance, Id: 'i-2' });
    expect(securityHubTargets(detail, inVpcs('vpc-0aaaaaaaaaaaaaaaa'), IMPORTED).ignored).toMatch(
      /: instance arn:aws:ec2:us-east-1:123456789012:instance\/i-0c1d2e3f4a5b6c7d8, i-2 is in vpc-0123456789abcdef0, not in DEVICE_VPCS$/,
    );
  });

  it("takes GuardDuty's own resource role over the traffic's direction", () => {
    const detail = eventFixture('securityhub-imported-guardduty-copy').detail;
    const finding = detail.findings[0];
    finding.ProductFields['aws/guardduty/service/resourceRole'] = 'ACTOR';
    finding.Network.Direction = 'IN';
    expect(securityHubTargets(detail, SCOPE, IMPORTED).criteria).toEqual([
      { device: '10.66.50.9' },
      { device: '10.66.50.11' },
    ]);
  });

  it('names a Security Hub event that is not one in its refusal', () => {
    expect(() => securityHubTargets({ findings: [] }, SCOPE, undefined)).toThrow(/^Security Hub event: /);
  });

  it('reads, for an imported finding, "Security Hub: " and its title, with nothing left out to mention', () => {
    expect(securityHubTargets(imported(), SCOPE, IMPORTED).reason).toBe(`Security Hub: ${TITLE}`);
    const low = imported();
    low.findings[0].Severity.Label = 'LOW';
    expect(securityHubTargets(low, SCOPE, IMPORTED).reason).toBe(`Security Hub: ${TITLE}`);
  });

  it('titles several findings by their number, joins their ids, and lists each one left out', () => {
    const detail = imported();
    const [finding] = detail.findings;
    const newer = { ...finding, Id: 'finding-b', UpdatedAt: '2026-11-23T09:07:00.000Z' };
    const low = { ...finding, Id: 'low', Severity: { Label: 'LOW' } };
    const archived = { ...finding, Id: 'archived', RecordState: 'ARCHIVED' };
    const targets = securityHubTargets({ ...detail, findings: [newer, low, finding, archived] }, SCOPE, IMPORTED);
    expect(targets.findingTitle).toBe('4 findings');
    expect(targets.findingId).toBe(`finding-b, low, ${finding.Id}, archived`);
    expect(targets.reason).toBe(
      'Security Hub: 4 findings (2 of 4 findings left out: low: severity LOW is not HIGH or CRITICAL; archived: record state is ARCHIVED)',
    );
    // One key per finding version acted on, in the same order whatever the order of the findings.
    const reversed = securityHubTargets({ ...detail, findings: [archived, finding, low, newer] }, SCOPE, IMPORTED);
    expect(targets.findingKeys).toHaveLength(2);
    expect(reversed.findingKeys).toEqual(targets.findingKeys);
  });
});
