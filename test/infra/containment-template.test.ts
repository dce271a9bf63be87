import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { reactivationScheduleName } from '../../lib/containment/quarantine.js';
import { packageTemplate, type Resource } from '../support/package-template.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let resources: Record<string, Resource>;

beforeAll(async () => {
  ({
    template: { Resources: resources },
  } = await packageTemplate({ packageDir: join(root, '.serverless-test-containment') }));
}, 120_000);

const PRODUCT_SCHEDULES = {
  'Fn::Sub': 'arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/pam-session-responder-dev/*',
};
const CREDENTIALS_FUNCTION = {
  'Fn::Sub':
    'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:pam-session-responder-dev-credentials',
};

function resource(name: string): Resource {
  const found = resources[name];
  if (!found) throw new Error(`no ${name} in the template`);
  return found;
}

/** Every statement that applies to a role: its inline policies and the AWS::IAM::Policy resources attached to it. */
function statementsOf(role: string): any[] {
  const inline = resource(role).Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement);
  const attached = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((ref: any) => ref.Ref === role))
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
  return [...inline, ...attached];
}

const granting = (role: string, action: string) =>
  statementsOf(role).filter((statement) => [statement.Action].flat().includes(action));

describe('what the template grants for credential containment', () => {
  it('a schedule group of the product’s own, which the schedule name fits', () => {
    expect(resource('ReactivationScheduleGroup')).toMatchObject({
      Type: 'AWS::Scheduler::ScheduleGroup',
      Properties: { Name: 'pam-session-responder-dev' },
    });
    // Scheduler: a group's name and a schedule's name are at most 64 characters of [0-9a-zA-Z-_.].
    const longest = reactivationScheduleName('9'.repeat(18));
    expect(longest.length).toBeLessThanOrEqual(64);
    expect(longest).toMatch(/^[0-9a-zA-Z-_.]+$/);
  });

  it.each(['DropRole', 'CredentialsRole'])(
    '%s may create and delete schedules in that group only, and pass only the schedule’s role, to Scheduler only',
    (role) => {
      for (const action of ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule']) {
        expect(granting(role, action)).toEqual([
          expect.objectContaining({ Effect: 'Allow', Resource: PRODUCT_SCHEDULES }),
        ]);
      }
      expect(granting(role, 'iam:PassRole')).toEqual([
        {
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: { 'Fn::GetAtt': ['ReactivationScheduleRole', 'Arn'] },
          Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        },
      ]);
      const schedulerActions = statementsOf(role)
        .flatMap((s) => [s.Action].flat())
        .filter((a) => /^scheduler:/.test(a));
      expect(schedulerActions.sort()).toEqual(['scheduler:CreateSchedule', 'scheduler:DeleteSchedule']);
    },
  );

  it('no other role may create schedules or pass roles', () => {
    for (const role of ['ListRole', 'ExportRole', 'IndexRole']) {
      expect(granting(role, 'scheduler:CreateSchedule')).toEqual([]);
      expect(granting(role, 'iam:PassRole')).toEqual([]);
    }
  });

  it('the schedule’s role is Scheduler’s, for this account’s product schedules, and invokes the credentials function only', () => {
    const role = resource('ReactivationScheduleRole').Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': PRODUCT_SCHEDULES },
        },
      },
    ]);
    expect(statementsOf('ReactivationScheduleRole')).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: CREDENTIALS_FUNCTION },
    ]);
  });

  it('drop and credentials are told the group, the role and the target the grants name', () => {
    for (const fn of ['DropLambdaFunction', 'CredentialsLambdaFunction']) {
      expect(resource(fn).Properties.Environment.Variables).toMatchObject({
        REACTIVATION_SCHEDULE_GROUP: 'pam-session-responder-dev',
        REACTIVATION_SCHEDULE_ROLE_ARN: { 'Fn::GetAtt': ['ReactivationScheduleRole', 'Arn'] },
        REACTIVATION_TARGET_ARN: CREDENTIALS_FUNCTION,
        QUARANTINE_MINUTES: '60',
      });
    }
    expect(resource('DropLambdaFunction').Properties.Environment.Variables).toMatchObject({
      CONTAIN_ON_FINDINGS: 'none',
      MAX_CREDENTIALS_PER_REQUEST: '3',
    });
    expect(resource('CredentialsLambdaFunction').Properties).toMatchObject({
      FunctionName: 'pam-session-responder-dev-credentials',
      Role: { 'Fn::GetAtt': ['CredentialsRole', 'Arn'] },
    });
  });

  it('routes POST /credentials/{id}/reactivate and /quarantine to the credentials function behind the IAM authorizer', () => {
    const routes = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
    for (const key of ['POST /credentials/{id}/reactivate', 'POST /credentials/{id}/quarantine']) {
      const route = routes.find((r) => r.Properties.RouteKey === key);
      expect(route?.Properties.AuthorizationType).toBe('AWS_IAM');
      expect(JSON.stringify(route?.Properties.Target)).toContain('Credentials');
    }
  });
});
