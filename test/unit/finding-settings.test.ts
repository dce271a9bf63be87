import { afterEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../infra/local/lambda-events.js';
import { ConfigurationError } from '../../lib/core/errors.js';
import { terminationSettings } from '../../lib/core/settings.js';
import { parseTerminationInput } from '../../lib/invocation/termination-input.js';
import { eventFixture } from '../support/fixtures.js';

const NAMES = ['FINDING_ACCOUNTS', 'DEVICE_VPCS', 'SECURITYHUB_PRODUCTS'];

afterEach(() => {
  for (const name of NAMES) delete process.env[name];
});

/** Why drop would not act on the fixture, invoked as the given function ARN; undefined: it acts. */
function ignored(fixture: string, invokedFunctionArn?: string): string | undefined {
  const context = { ...lambdaContext(), ...(invokedFunctionArn === undefined ? {} : { invokedFunctionArn }) };
  return parseTerminationInput(eventFixture(fixture), context, terminationSettings()).request.ignored;
}

describe('which findings act: the settings', () => {
  it("defaults to GuardDuty's own product, the deployment's own account and any VPC", () => {
    expect(terminationSettings()).toMatchObject({
      securityHubProducts: ['arn:*:securityhub:*::product/aws/guardduty'],
      findingAccounts: new Set(),
      deviceVpcs: new Set(),
    });
  });

  it("takes the deployment's own account from the invocation's ARN while FINDING_ACCOUNTS is empty", () => {
    expect(ignored('guardduty-cryptocurrency-instance')).toBeUndefined();
    const elsewhere = 'arn:aws:lambda:us-east-1:210987654321:function:pam-session-responder-dev-drop';
    expect(ignored('guardduty-cryptocurrency-instance', elsewhere)).toBe(
      "account 123456789012 is not one whose findings act (210987654321: FINDING_ACCOUNTS, else this deployment's own)",
    );
    // An ARN it cannot read names no account: nothing acts, rather than everything.
    expect(ignored('securityhub-imported-high', 'not-an-arn')).toMatch(/is not one whose findings act \(none:/);
    process.env.FINDING_ACCOUNTS = ' 210987654321 , 123456789012 ';
    expect(ignored('guardduty-cryptocurrency-instance', elsewhere)).toBeUndefined();
  });

  it('refuses what is not an account id or a VPC id, naming the variable', () => {
    process.env.FINDING_ACCOUNTS = '123456789012,prod';
    expect(() => terminationSettings()).toThrow(
      new ConfigurationError(
        'FINDING_ACCOUNTS must be a comma-separated list of 12-digit AWS account ids (it is "123456789012,prod")',
      ),
    );
    delete process.env.FINDING_ACCOUNTS;
    process.env.DEVICE_VPCS = 'vpc-0123456789abcdef0,10.66.0.0/16';
    expect(() => terminationSettings()).toThrow(/^DEVICE_VPCS must be a comma-separated list of VPC ids/);
    process.env.DEVICE_VPCS = 'VPC-0123456789ABCDEF0';
    expect(terminationSettings().deviceVpcs).toEqual(new Set(['vpc-0123456789abcdef0']));
    expect(ignored('guardduty-cryptocurrency-instance')).toBeUndefined();
  });
});
