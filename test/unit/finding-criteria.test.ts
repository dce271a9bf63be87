import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/core/errors.js';
import { guardDutyTargets, securityHubTargets } from '../../lib/termination/finding-targets.js';
import { eventFixture } from '../support/fixtures.js';

describe('GuardDuty findings', () => {
  it('targets sessions into every private IP of the instance and from the remote address', () => {
    const targets = guardDutyTargets(eventFixture('guardduty-cryptocurrency-instance').detail, 7);
    expect(targets.criteria).toEqual([
      { device: '10.66.50.9' },
      { device: '10.66.50.11' },
      { origin_ip: '198.51.100.23' },
    ]);
    expect(targets).toMatchObject({
      findingId: '7ec4b1e0f2a34c5d8e9f0a1b2c3d4e5f',
      reason: expect.stringMatching(
        /^GuardDuty finding CryptoCurrency:EC2\/BitcoinTool\.B \(severity 8\): EC2 instance/,
      ),
    });
    expect(targets.ignored).toBeUndefined();
  });

  it('finds remote addresses under every action type', () => {
    const probe = guardDutyTargets(eventFixture('guardduty-port-probe-low-severity').detail, 7);
    expect(probe.criteria).toContainEqual({ origin_ip: '203.0.113.77' });
    const apiCall = eventFixture('guardduty-cryptocurrency-instance').detail;
    apiCall.resource = { resourceType: 'AccessKey', accessKeyDetails: { userName: 'ci-deployer' } };
    apiCall.service.action = {
      actionType: 'AWS_API_CALL',
      awsApiCallAction: {
        api: 'GetSecretValue',
        serviceName: 'secretsmanager.amazonaws.com',
        remoteIpDetails: { ipAddressV4: '192.0.2.10', ipAddressV6: '2001:db8::10' },
      },
    };
    expect(guardDutyTargets(apiCall, 7).criteria).toEqual([{ origin_ip: '192.0.2.10' }, { origin_ip: '2001:db8::10' }]);
  });

  it('marks a finding below the threshold as ignored', () => {
    expect(guardDutyTargets(eventFixture('guardduty-port-probe-low-severity').detail, 7).ignored).toBe(
      'severity 2 is below the threshold 7',
    );
  });

  it('refuses a detail without id, type or numeric severity', () => {
    const detail = eventFixture('guardduty-cryptocurrency-instance').detail;
    detail.severity = 'HIGH';
    expect(() => guardDutyTargets(detail, 7)).toThrow(
      new ValidationError('GuardDuty finding: detail.severity must be a number'),
    );
  });

  it('drops values that are not IP addresses', () => {
    const detail = eventFixture('guardduty-cryptocurrency-instance').detail;
    detail.resource.instanceDetails.networkInterfaces[0].privateIpAddress = 'GeneratedFindingPrivateIp';
    detail.resource.instanceDetails.networkInterfaces[0].privateIpAddresses = [];
    detail.service.action.networkConnectionAction.remoteIpDetails.ipAddressV4 = '';
    expect(guardDutyTargets(detail, 7).criteria).toEqual([]);
  });
});

describe('Security Hub ASFF findings', () => {
  it('targets sessions into the instance addresses and from Network.SourceIpV4 at the configured labels', () => {
    const targets = securityHubTargets(eventFixture('securityhub-imported-high').detail, new Set(['HIGH', 'CRITICAL']));
    expect(targets.criteria).toEqual([{ device: '10.66.40.21' }, { origin_ip: '10.20.4.18' }]);
    expect(targets.findingTitle).toBe('10.20.4.18 is performing RDP brute force attacks against i-0c1d2e3f4a5b6c7d8.');
    expect(targets.ignored).toBeUndefined();
  });

  it('ignores imported findings below the labels', () => {
    const targets = securityHubTargets(
      eventFixture('securityhub-imported-medium').detail,
      new Set(['HIGH', 'CRITICAL']),
    );
    expect(targets.criteria).toEqual([]);
    expect(targets.ignored).toBe('no finding at severity HIGH or CRITICAL');
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
