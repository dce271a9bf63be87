import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/core/errors.js';
import { findingKey, guardDutyFindingArn } from '../../lib/termination/finding-key.js';

const ARN = 'arn:aws:guardduty:us-east-1:123456789012:detector/2cb1a8e7d3f04b6c9e0a1b2c3d4e5f60/finding/7ec4b1e0';

describe('findingKey', () => {
  it('gives one key for one instant, however the time is written', () => {
    const key = `${ARN}@2026-11-23T09:12:40.100Z`;
    for (const written of [
      '2026-11-23T09:12:40.100Z',
      '2026-11-23T09:12:40.1Z',
      '2026-11-23T09:12:40.100+00:00',
      '2026-11-23T11:12:40.100+02:00',
    ])
      expect(findingKey(ARN, written)).toBe(key);
  });

  it('keys another instant or another finding apart', () => {
    expect(findingKey(ARN, '2026-11-23T09:12:40.101Z')).not.toBe(findingKey(ARN, '2026-11-23T09:12:40.100Z'));
    expect(findingKey(`${ARN}0`, '2026-11-23T09:12:40.100Z')).not.toBe(findingKey(ARN, '2026-11-23T09:12:40.100Z'));
  });

  it('refuses an update time that is not a time', () => {
    expect(() => findingKey(ARN, 'yesterday')).toThrow(ValidationError);
    expect(() => findingKey(ARN, '')).toThrow(/its update time "" is not a time/);
  });
});

describe('guardDutyFindingArn', () => {
  const parts = {
    partition: 'aws-us-gov',
    region: 'us-gov-west-1',
    accountId: '123456789012',
    detectorId: '2cb1a8e7d3f04b6c9e0a1b2c3d4e5f60',
    id: '7ec4b1e0',
  };

  it("takes the finding's own ARN, else builds it from its partition, region, account, detector and id", () => {
    expect(guardDutyFindingArn({ ...parts, arn: ARN })).toBe(ARN);
    expect(guardDutyFindingArn(parts)).toBe(
      'arn:aws-us-gov:guardduty:us-gov-west-1:123456789012:detector/2cb1a8e7d3f04b6c9e0a1b2c3d4e5f60/finding/7ec4b1e0',
    );
    expect(guardDutyFindingArn({ ...parts, partition: undefined })).toMatch(/^arn:aws:guardduty:/);
    expect(guardDutyFindingArn({ ...parts, partition: '' })).toMatch(/^arn:aws:guardduty:/);
    expect(guardDutyFindingArn({ ...parts, arn: '' })).toMatch(/^arn:aws-us-gov:guardduty:/);
  });

  it('refuses to guess without the parts', () => {
    for (const missing of ['region', 'accountId', 'detectorId'] as const) {
      expect(() => guardDutyFindingArn({ ...parts, [missing]: undefined })).toThrow(ValidationError);
      expect(() => guardDutyFindingArn({ ...parts, [missing]: '' })).toThrow(
        'GuardDuty finding 7ec4b1e0: without detail.arn, its ARN needs detail.region, detail.accountId and detail.service.detectorId',
      );
    }
  });
});
