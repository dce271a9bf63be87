import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRulePatterns } from '../../infra/event-patterns/rules.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const packageDir = join(root, '.serverless-test');

type Resource = { Type: string; Properties: Record<string, any> };
let resources: Record<string, Resource>;

function ofType(type: string): Array<[string, Resource]> {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

function fn(name: 'List' | 'Drop'): Resource {
  const resource = resources[`${name}LambdaFunction`];
  if (!resource) throw new Error(`no ${name}LambdaFunction`);
  return resource;
}

async function zipEntries(file: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('unzip', ['-Z1', file]);
  return stdout.trim().split('\n').sort();
}

// What `npx osls package` generates, offline and without AWS credentials, is what gets deployed.
beforeAll(async () => {
  await promisify(execFile)(process.execPath, [join(root, 'node_modules/osls/bin/serverless.js'), 'package', '--package', packageDir], {
    cwd: root,
    env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', SLS_TELEMETRY_DISABLED: '1' },
  });
  resources = JSON.parse(readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8')).Resources;
}, 120_000);

describe('the generated CloudFormation', () => {
  it('deploys list and drop on nodejs22.x, arm64, from the esbuild bundles', () => {
    for (const [name, handler] of [['List', 'dist/list/index.handler'], ['Drop', 'dist/drop/index.handler']] as const) {
      expect(fn(name).Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: handler });
      expect(fn(name).Properties.Environment.Variables.PAM_SECRET_ID).toBe('pam-session-responder/pam-core');
    }
    expect(fn('List').Properties.Timeout).toBeLessThanOrEqual(29);
  });

  it("packages only each function's own bundle", async () => {
    expect(await zipEntries(join(packageDir, 'list.zip'))).toEqual(['dist/list/index.mjs', 'dist/list/index.mjs.map']);
    expect(await zipEntries(join(packageDir, 'drop.zip'))).toEqual(['dist/drop/index.mjs', 'dist/drop/index.mjs.map']);
  });

  it('routes GET /sessions and DELETE /sessions/{sessionId} behind the IAM authorizer', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties);
    expect(routes.map((route) => [route.RouteKey, route.AuthorizationType]).sort()).toEqual([
      ['DELETE /sessions/{sessionId}', 'AWS_IAM'],
      ['GET /sessions', 'AWS_IAM'],
      ['POST /sessions/terminate', 'AWS_IAM'],
    ]);
    const integrations = ofType('AWS::ApiGatewayV2::Integration').map(([, integration]) => integration.Properties);
    expect(integrations.every((integration) => integration.PayloadFormatVersion === '2.0')).toBe(true);
  });

  it('deploys one rule per pattern file, exactly as the files say, each targeting drop with retries and a dead-letter queue', () => {
    const rules = ofType('AWS::Events::Rule').map(([, rule]) => rule.Properties);
    const deployed = rules.map((rule) => rule.EventPattern);
    const files = loadRulePatterns({ intrinsics: false }).map((rule) => rule.pattern);
    expect(deployed).toHaveLength(files.length);
    for (const pattern of files) expect(deployed).toContainEqual(pattern);
    for (const rule of rules) {
      expect(rule.EventBusName).toBeUndefined();
      expect(rule.Targets).toEqual([
        expect.objectContaining({
          Arn: { 'Fn::GetAtt': ['DropLambdaFunction', 'Arn'] },
          RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 20 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['RulesDeadLetterQueue', 'Arn'] } },
        }),
      ]);
    }
    expect(deployed).toContainEqual({ source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'], detail: { severity: [{ numeric: ['>=', 7] }] } });
  });

  it('lets only EventBridge rules of this account write to the dead-letter queue', () => {
    const [[, policy]] = ofType('AWS::SQS::QueuePolicy') as [[string, Resource]];
    expect(policy.Properties.Queues).toEqual([{ Ref: 'RulesDeadLetterQueue' }]);
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Condition: expect.objectContaining({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
      }),
    ]);
  });

  it('retries failed events twice within an hour, then sends them to the on-failure queue', () => {
    const [[, config]] = ofType('AWS::Lambda::EventInvokeConfig') as [[string, Resource]];
    expect(config.Properties).toEqual({
      FunctionName: { Ref: 'DropLambdaFunction' },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['DropFailuresQueue', 'Arn'] } } },
    });
  });

  it('alarms as soon as either queue holds a message', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    expect(alarms.map((alarm) => alarm.Dimensions[0].Value['Fn::GetAtt'][0]).sort()).toEqual(['DropFailuresQueue', 'RulesDeadLetterQueue']);
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      });
    }
  });

  it('creates the "Terminate PAM sessions" custom action the custom-action rule listens for', () => {
    expect(resources.TerminatePamSessionsAction?.Properties).toMatchObject({ Name: 'Terminate PAM sessions', Id: 'TerminatePamSession' });
  });

  it('gives drop its guardrails and the audit bus', () => {
    expect(fn('Drop').Properties.Environment.Variables).toMatchObject({
      AUDIT_EVENT_BUS: 'default',
      MAX_SESSIONS_PER_EVENT: '10',
      DROP_CONCURRENCY: '8',
      DRY_RUN: 'false',
      GUARDDUTY_MIN_SEVERITY: '7',
      SECURITYHUB_SEVERITY_LABELS: { 'Fn::Join': [',', ['HIGH', 'CRITICAL']] },
    });
  });

  it('lets the functions publish audit events on that one bus only', () => {
    const [[, role]] = ofType('AWS::IAM::Role') as [[string, Resource]];
    const statements = role.Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement);
    expect(statements.filter((statement: any) => JSON.stringify(statement.Action).includes('events:'))).toEqual([
      {
        Effect: 'Allow',
        Action: ['events:PutEvents'],
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' },
      },
    ]);
  });

  it('lets the functions read that one secret and nothing wider', () => {
    const [[, role]] = ofType('AWS::IAM::Role') as [[string, Resource]];
    const statements = role.Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement);
    const secretStatements = statements.filter((statement: any) => JSON.stringify(statement.Action).includes('secretsmanager'));
    expect(secretStatements).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue'],
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:pam-session-responder/pam-core-??????' },
      },
    ]);
    for (const statement of statements) {
      expect(JSON.stringify(statement.Action)).not.toMatch(/"\*"|:\*"/);
      expect(statement.Resource).not.toBe('*');
    }
  });
});
