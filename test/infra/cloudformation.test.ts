import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRulePatterns } from '../../infra/event-patterns/rules.js';
import { SESSION_COLUMNS } from '../../lib/sessions/remote-session.js';
import { TERMINATION_UNCONFIRMED } from '../../lib/termination/outcome-metrics.js';
import { packageTemplate, type Resource, type Template } from '../support/package-template.js';
import { conditionValues, resolveIfs } from '../support/template-conditions.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const packageDir = join(root, '.serverless-test');

let template: Template;
let resources: Record<string, Resource>;

function ofType(type: string): Array<[string, Resource]> {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

function fn(name: 'List' | 'Drop' | 'Confirm' | 'Export' | 'IndexDashsessions'): Resource {
  const resource = resources[`${name}LambdaFunction`];
  if (!resource) throw new Error(`no ${name}LambdaFunction`);
  return resource;
}

type RoleName = 'ListRole' | 'DropRole' | 'ConfirmRole' | 'ExportRole' | 'IndexRole';

/** A role's statements, but those a Condition adds (the VPC's and X-Ray's, tested on their own). */
function statements(role: RoleName, packaged: Record<string, Resource> = resources): any[] {
  return (
    packaged[role]?.Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement).filter(
      (statement: any) => !('Fn::If' in statement),
    ) ?? []
  );
}

const SECRET_ARN = {
  'Fn::Sub':
    'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:pam-session-responder/pam-core-??????',
};
const DROP_ROLE = { 'Fn::GetAtt': ['DropRole', 'Arn'] };
const CONFIRM_ROLE = { 'Fn::GetAtt': ['ConfirmRole', 'Arn'] };
const AUDIT_BUS_ARN = { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' };

async function zipEntries(file: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('unzip', ['-Z1', file]);
  return stdout.trim().split('\n').sort();
}

// What `npx osls package` generates, offline and without AWS credentials, is what gets deployed.
beforeAll(async () => {
  ({ template } = await packageTemplate({ packageDir }));
  resources = template.Resources;
}, 120_000);

describe('the generated CloudFormation', () => {
  it('deploys list and drop on nodejs22.x, arm64, from the esbuild bundles', () => {
    for (const [name, handler] of [
      ['List', 'dist/list/index.handler'],
      ['Drop', 'dist/drop/index.handler'],
    ] as const) {
      expect(fn(name).Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: handler });
      expect(fn(name).Properties.Environment.Variables.PAM_SECRET_ID).toBe('pam-session-responder/pam-core');
    }
    expect(fn('List').Properties.Timeout).toBeLessThanOrEqual(29);
  });

  it("packages only each function's own bundle", async () => {
    for (const name of ['list', 'drop', 'export', 'index-sessions']) {
      const entries = await zipEntries(join(packageDir, `${name}.zip`));
      expect(entries).toContain(`dist/${name}/index.mjs`);
      expect(entries.every((entry) => entry.startsWith(`dist/${name}/`))).toBe(true);
    }
  });

  it('routes every route behind the IAM authorizer, confirming a blocked request on a route (and function) of its own', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties);
    expect(routes.map((route) => [route.RouteKey, route.AuthorizationType]).sort()).toEqual([
      ['DELETE /sessions/{sessionId}', 'AWS_IAM'],
      ['GET /sessions', 'AWS_IAM'],
      ['POST /credentials/{id}/quarantine', 'AWS_IAM'],
      ['POST /credentials/{id}/reactivate', 'AWS_IAM'],
      ['POST /sessions/terminate', 'AWS_IAM'],
      ['POST /sessions/terminate/confirm', 'AWS_IAM'],
    ]);
    const confirmRoute = routes.find((route) => route.RouteKey === 'POST /sessions/terminate/confirm');
    expect(JSON.stringify(confirmRoute?.Target)).toContain('HttpApiIntegrationConfirm');
    const integrations = ofType('AWS::ApiGatewayV2::Integration').map(([, integration]) => integration.Properties);
    expect(integrations.every((integration) => integration.PayloadFormatVersion === '2.0')).toBe(true);
  });

  it('logs every HTTP API call: who (the IAM caller), which route, status, latency and request id, kept logRetentionDays', () => {
    const settings = resources.HttpApiStage?.Properties.AccessLogSettings;
    expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] });
    expect(JSON.parse(settings.Format)).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
      responseLatency: '$context.responseLatency',
      userArn: '$context.identity.userArn',
      caller: '$context.identity.caller',
      accountId: '$context.identity.accountId',
    });
    expect(resources.HttpApiLogGroup?.Properties).toEqual({
      LogGroupName: '/aws/http-api/pam-session-responder-dev',
      RetentionInDays: 30,
    });
  });

  it('deploys one rule per pattern file, exactly as the files say, each targeting drop with retries and a dead-letter queue', () => {
    const rules = ofType('AWS::Events::Rule')
      .map(([, rule]) => rule.Properties)
      .filter((rule) => rule.Targets[0].Arn['Fn::GetAtt']?.[0] === 'DropLambdaFunction' && rule.EventPattern);
    const deployed = rules.map((rule) => rule.EventPattern);
    const files = loadRulePatterns({ intrinsics: false }).map((rule) => rule.pattern);
    expect(deployed).toHaveLength(files.length);
    for (const pattern of files) expect(deployed).toContainEqual(pattern);
    for (const rule of rules) {
      // Termination requests on their own bus; findings on eventBus, the default bus by default.
      expect(rule.EventBusName).toEqual(
        rule.EventPattern['detail-type'][0] === 'PAM Session Termination Requested'
          ? { 'Fn::GetAtt': ['TerminationRequestsBus', 'Name'] }
          : undefined,
      );
      expect(rule.Targets).toEqual([
        expect.objectContaining({
          Arn: { 'Fn::GetAtt': ['DropLambdaFunction', 'Arn'] },
          RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 20 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['RulesDeadLetterQueue', 'Arn'] } },
        }),
      ]);
    }
    expect(deployed).toContainEqual({
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Finding'],
      detail: { severity: [{ numeric: ['>=', 7] }] },
    });
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
    const config = ofType('AWS::Lambda::EventInvokeConfig')
      .map(([, resource]) => resource)
      .find((resource) => resource.Properties.FunctionName.Ref === 'DropLambdaFunction');
    expect(config?.Properties).toEqual({
      FunctionName: { Ref: 'DropLambdaFunction' },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['DropFailuresQueue', 'Arn'] } } },
    });
  });

  it('alarms as soon as either queue holds a message', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm')
      .map(([, alarm]) => alarm.Properties)
      .filter((alarm) => alarm.Namespace === 'AWS/SQS');
    expect(alarms.map((alarm) => alarm.Dimensions[0].Value['Fn::GetAtt'][0]).sort()).toEqual([
      'DropFailuresQueue',
      'RulesDeadLetterQueue',
    ]);
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

  it("alarms on drop's own metrics, per stage: the service dimension carries the stage", () => {
    const environment = fn('Drop').Properties.Environment.Variables;
    expect(environment).toMatchObject({
      POWERTOOLS_METRICS_NAMESPACE: 'PamSessionResponder',
      POWERTOOLS_SERVICE_NAME: 'pam-session-responder-dev',
    });
    for (const name of ['TerminationBlockedAlarm', 'TerminationFailedAlarm', 'TerminationUnconfirmedAlarm']) {
      expect(resources[name]?.Properties, name).toMatchObject({
        Namespace: 'PamSessionResponder',
        Dimensions: [{ Name: 'service', Value: 'pam-session-responder-dev' }],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
    expect(resources.TerminationBlockedAlarm?.Properties.MetricName).toBe('blocked');
    expect(resources.TerminationFailedAlarm?.Properties.MetricName).toBe('failed');
    expect(resources.TerminationUnconfirmedAlarm?.Properties.MetricName).toBe(TERMINATION_UNCONFIRMED);
  });

  it('encrypts the alarm topic with a key of its own that CloudWatch alarms of this account may use', () => {
    expect(resources.AlarmTopic?.Properties.KmsMasterKeyId).toEqual({ Ref: 'AlarmTopicKey' });
    const key = resources.AlarmTopicKey;
    expect(key?.Type).toBe('AWS::KMS::Key');
    expect(key?.Properties.EnableKeyRotation).toBe(true);
    expect(key?.Properties.KeyPolicy.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
        Action: 'kms:*',
        Resource: '*',
      }),
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      }),
    ]);
    // drop publishes to the topic itself too.
    expect(fn('Drop').Properties.Environment.Variables.ALARM_TOPIC_ARN).toEqual({ Ref: 'AlarmTopic' });
  });

  it('creates the "Cut PAM sessions" custom action the custom-action rule listens for', () => {
    expect(resources.TerminatePamSessionsAction?.Properties).toMatchObject({
      Name: 'Cut PAM sessions',
      Id: 'TerminatePamSession',
    });
  });

  it('caps how many drops run at once', () => {
    expect(fn('Drop').Properties.ReservedConcurrentExecutions).toBe(10);
  });

  it('gives drop its guardrails and the audit bus', () => {
    expect(fn('Drop').Properties.Environment.Variables).toMatchObject({
      AUDIT_EVENT_BUS: 'default',
      MAX_SESSIONS_PER_EVENT: '10',
      DROP_CONCURRENCY: '8',
      DRY_RUN: 'false',
      GUARDDUTY_MIN_SEVERITY: '7',
      SECURITYHUB_SEVERITY_LABELS: 'HIGH,CRITICAL',
      MAX_EVENT_AGE_MINUTES: '60',
    });
  });

  it("gives drop the finding sources it trusts and the broadest blocks it may match, as the rules' patterns say", () => {
    expect(fn('Drop').Properties.Environment.Variables).toMatchObject({
      SECURITYHUB_PRODUCTS: 'arn:*:securityhub:*::product/aws/guardduty',
      FINDING_ACCOUNTS: '',
      DEVICE_VPCS: '',
      MIN_PREFIX_LENGTH_IPV4: '16',
      MIN_PREFIX_LENGTH_IPV6: '48',
    });
    const imported = ofType('AWS::Events::Rule')
      .map(([, rule]) => rule.Properties.EventPattern)
      .find((pattern) => pattern?.['detail-type']?.[0] === 'Security Hub Findings - Imported');
    expect(imported.detail.findings).toMatchObject({
      ProductArn: [{ wildcard: 'arn:*:securityhub:*::product/aws/guardduty' }],
      Types: [{ prefix: 'TTPs/' }, { prefix: 'Effects/' }, { prefix: 'Unusual Behaviors/' }],
      Workflow: { Status: ['NEW'] },
    });
  });

  it('gives each function its own role, allowed exactly what it does', () => {
    expect(fn('List').Properties.Role).toEqual({ 'Fn::GetAtt': ['ListRole', 'Arn'] });
    expect(fn('Drop').Properties.Role).toEqual({ 'Fn::GetAtt': ['DropRole', 'Arn'] });
    expect(fn('Export').Properties.Role).toEqual({ 'Fn::GetAtt': ['ExportRole', 'Arn'] });
    expect(fn('IndexDashsessions').Properties.Role).toEqual({ 'Fn::GetAtt': ['IndexRole', 'Arn'] });
    const actions = (role: RoleName) =>
      statements(role)
        .flatMap((statement) => [statement.Action].flat())
        .sort();
    expect(actions('ListRole')).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:GetObject',
      's3:ListBucket',
      'secretsmanager:GetSecretValue',
    ]);
    expect(actions('DropRole')).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'events:PutEvents',
      'kms:Decrypt',
      'kms:GenerateDataKey*',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
      'secretsmanager:GetSecretValue',
      'securityhub:BatchUpdateFindings',
      'sns:Publish',
      'sqs:SendMessage',
    ]);
    expect(fn('Confirm').Properties.Role).toEqual({ 'Fn::GetAtt': ['ConfirmRole', 'Arn'] });
    expect(actions('ConfirmRole')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'events:PutEvents',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
      'secretsmanager:GetSecretValue',
    ]);
    expect(actions('IndexRole')).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
      'secretsmanager:GetSecretValue',
    ]);
    expect(actions('ExportRole')).toEqual([
      'events:PutEvents',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:AbortMultipartUpload',
      's3:ListMultipartUploadParts',
      's3:PutObject',
      'secretsmanager:GetSecretValue',
    ]);
    expect(
      ofType('AWS::IAM::Role')
        .map(([name]) => name)
        .sort(),
    ).toEqual([
      'ConfirmRole',
      'CredentialsRole',
      'DropRole',
      'ExportRole',
      'IndexRole',
      'ListRole',
      'ReactivationScheduleRole',
    ]);
    for (const role of ['ListRole', 'DropRole', 'ConfirmRole', 'ExportRole', 'IndexRole'] as const) {
      for (const statement of statements(role)) {
        // The one wildcard: the GenerateDataKey family, as SNS documents what a publisher to an encrypted topic needs.
        expect(JSON.stringify(statement.Action).replace('kms:GenerateDataKey*', '')).not.toContain('*');
        expect(statement.Resource).not.toBe('*');
      }
    }
  });

  it('scopes each permission to the exact resource', () => {
    const find = (role: RoleName, action: string) =>
      statements(role).find((statement) => [statement.Action].flat().includes(action));
    const logGroups: Record<RoleName, string> = {
      ListRole: 'ListLogGroup',
      DropRole: 'DropLogGroup',
      ConfirmRole: 'ConfirmLogGroup',
      ExportRole: 'ExportLogGroup',
      IndexRole: 'IndexDashsessionsLogGroup',
    };
    for (const role of ['ListRole', 'DropRole', 'ConfirmRole', 'ExportRole', 'IndexRole'] as const) {
      expect(find(role, 'secretsmanager:GetSecretValue')?.Resource).toEqual(SECRET_ARN);
      expect(find(role, 'logs:PutLogEvents')?.Resource).toEqual({ 'Fn::GetAtt': [logGroups[role], 'Arn'] });
    }
    const index = { 'Fn::Sub': '${InventoryBucket.Arn}/index/active-sessions.json' };
    const terminated = { 'Fn::Sub': '${InventoryBucket.Arn}/terminated/*' };
    const bucket = { 'Fn::GetAtt': ['InventoryBucket', 'Arn'] };
    expect(find('DropRole', 's3:GetObject')?.Resource).toEqual([index, terminated]);
    expect(find('DropRole', 's3:PutObject')?.Resource).toEqual(terminated);
    expect(find('IndexRole', 's3:PutObject')?.Resource).toEqual(index);
    // Without s3:ListBucket, S3 answers a missing key (no index yet, an event not seen before) with 403, not 404.
    for (const role of ['ListRole', 'DropRole', 'IndexRole'] as const) {
      expect(find(role, 's3:ListBucket')?.Resource).toEqual(bucket);
    }
    expect(find('DropRole', 'events:PutEvents')?.Resource).toEqual(AUDIT_BUS_ARN);
    expect(find('ExportRole', 'events:PutEvents')?.Resource).toEqual(AUDIT_BUS_ARN);
    expect(find('DropRole', 'sqs:SendMessage')?.Resource).toEqual({ 'Fn::GetAtt': ['DropFailuresQueue', 'Arn'] });
    expect(find('DropRole', 'sns:Publish')?.Resource).toEqual({ Ref: 'AlarmTopic' });
    expect(find('DropRole', 'kms:GenerateDataKey*')).toMatchObject({
      Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      Resource: { 'Fn::GetAtt': ['AlarmTopicKey', 'Arn'] },
    });
    // Security Hub authorises BatchUpdateFindings on the account's hub, so no "*" is needed for the write-back.
    expect(find('DropRole', 'securityhub:BatchUpdateFindings')?.Resource).toEqual({
      'Fn::Sub': 'arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:hub/default',
    });
    expect(find('ExportRole', 's3:PutObject')?.Resource).toEqual({
      'Fn::Sub': '${InventoryBucket.Arn}/remote-sessions/*',
    });
    expect(find('ListRole', 's3:GetObject')?.Resource).toEqual([
      { 'Fn::Sub': '${InventoryBucket.Arn}/remote-sessions/*' },
      index,
    ]);
  });
});

/** IAM's ArnLike: each of the six colon-separated parts compared on its own, with * and ? as wildcards. */
function arnLike(arn: string, pattern: string): boolean {
  const parts = (value: string) => {
    const split = value.split(':');
    return [...split.slice(0, 5), split.slice(5).join(':')];
  };
  const glob = (text: string, wildcard: string) =>
    new RegExp(
      `^${wildcard
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    ).test(text);
  const [given, wanted] = [parts(arn), parts(pattern)];
  return wanted.every((part, index) => glob(given[index] ?? '', part));
}

/** What the bus's policy says to events:PutEvents from a principal: an explicit Deny wins over any Allow. */
function busPolicyDecision(policy: any, principalArn: string): 'denied' | 'allowed' | 'not mentioned' {
  const applies = (statement: any) => {
    if (statement.Principal !== '*' || statement.Action !== 'events:PutEvents') return false;
    return Object.entries(statement.Condition ?? {}).every(([operator, keys]) => {
      const listed = [(keys as Record<string, string | string[]>)['aws:PrincipalArn'] ?? []].flat();
      const like = listed.some((pattern) => arnLike(principalArn, pattern));
      if (operator === 'ArnLike') return like;
      if (operator === 'ArnNotLike') return !like;
      throw new Error(`no evaluation for ${operator}`);
    });
  };
  const statements: any[] = policy.Statement.filter(applies);
  if (statements.some((statement) => statement.Effect === 'Deny')) return 'denied';
  return statements.some((statement) => statement.Effect === 'Allow') ? 'allowed' : 'not mentioned';
}

const busPolicy = (packaged: Template) =>
  resolveIfs(packaged.Resources.TerminationRequestsBus?.Properties.Policy, conditionValues(packaged.Conditions));

describe('the functions call AWS through the SDK clients only', () => {
  it('has no layer and no extension setting on any function', () => {
    for (const name of ['List', 'Drop', 'Export', 'IndexDashsessions'] as const) {
      expect(fn(name).Properties.Layers).toBeUndefined();
      expect(Object.keys(fn(name).Properties.Environment.Variables)).not.toContain(
        'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT',
      );
    }
  });
});

describe('the termination-request bus', () => {
  const SOAR = 'arn:aws:iam::111122223333:role/soar-playbook';
  const SIEM_ELSEWHERE = 'arn:aws:iam::444455556666:role/siem-forwarder';
  let withRequesters: Template;
  let cleanup = () => {};

  beforeAll(async () => {
    const packageDir = mkdtempSync(join(tmpdir(), 'pam-requesters-'));
    cleanup = () => rmSync(packageDir, { recursive: true, force: true });
    ({ template: withRequesters } = await packageTemplate({
      packageDir,
      params: { terminationRequesters: `${SOAR},${SIEM_ELSEWHERE}` },
    }));
  }, 120_000);
  afterAll(() => cleanup());

  it('is a bus of the stack, named for the stage, with its ARN as an output', () => {
    expect(resources.TerminationRequestsBus).toMatchObject({
      Type: 'AWS::Events::EventBus',
      Properties: { Name: 'pam-termination-requests-dev' },
    });
    expect(template.Outputs.TerminationRequestsBusArn?.Value).toEqual({
      'Fn::GetAtt': ['TerminationRequestsBus', 'Arn'],
    });
  });

  it('refuses events:PutEvents to everyone, account admins included, while terminationRequesters is empty', () => {
    const policy = busPolicy(template);
    expect(policy.Statement).toEqual([
      {
        Sid: 'DenyAllButTerminationRequesters',
        Effect: 'Deny',
        Principal: '*',
        Action: 'events:PutEvents',
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/pam-termination-requests-dev',
        },
      },
    ]);
    for (const principal of [SOAR, 'arn:aws:iam::111122223333:role/Admin', 'arn:aws:iam::111122223333:root'])
      expect(busPolicyDecision(policy, principal)).toBe('denied');
  });

  it('lets exactly the listed roles put events, from their own account or another, and denies everyone else', () => {
    const policy = busPolicy(withRequesters);
    expect(busPolicyDecision(policy, SOAR)).toBe('allowed');
    expect(busPolicyDecision(policy, SIEM_ELSEWHERE)).toBe('allowed');
    for (const principal of [
      'arn:aws:iam::111122223333:role/Admin',
      'arn:aws:iam::111122223333:root',
      'arn:aws:iam::111122223333:role/soar-playbook-2',
      'arn:aws:iam::999999999999:role/soar-playbook',
      'arn:aws:iam::111122223333:user/soar-playbook',
    ])
      expect(busPolicyDecision(policy, principal)).toBe('denied');
    // The conditions name the principal by aws:PrincipalArn: a session of a role carries the role's ARN there.
    expect(policy.Statement.map((statement: any) => Object.keys(statement.Condition))).toEqual([
      ['ArnNotLike'],
      ['ArnLike'],
    ]);
  });

  it('carries the termination-request rule, whose pattern takes only the listed source prefixes', () => {
    const onBus = ofType('AWS::Events::Rule').filter(
      ([, rule]) => rule.Properties.EventBusName?.['Fn::GetAtt']?.[0] === 'TerminationRequestsBus',
    );
    expect(onBus.map(([, rule]) => rule.Properties.EventPattern)).toEqual([
      { source: [{ prefix: 'siem.' }, { prefix: 'soar.' }], 'detail-type': ['PAM Session Termination Requested'] },
    ]);
  });
});

describe('the inventory export infrastructure', () => {
  it('runs the export daily, alone, with two vCPUs, 15 minutes and a small heap', () => {
    const [[, schedule]] = ofType('AWS::Events::Rule').filter(([name]) => name.startsWith('Export')) as [
      [string, Resource],
    ];
    expect(schedule.Properties).toMatchObject({ ScheduleExpression: 'rate(1 day)', State: 'ENABLED' });
    expect(schedule.Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': ['ExportLambdaFunction', 'Arn'] });
    expect(fn('Export').Properties).toMatchObject({ MemorySize: 3538, Timeout: 900, ReservedConcurrentExecutions: 1 });
    expect(fn('Export').Properties.Environment.Variables).toMatchObject({
      EXPORT_BUCKET: { Ref: 'InventoryBucket' },
      EXPORT_FORMAT: 'jsonl',
      NODE_OPTIONS: '--enable-source-maps --max-old-space-size=96 --max-semi-space-size=4',
    });
    expect(fn('List').Properties.Environment.Variables.EXPORT_BUCKET).toEqual({ Ref: 'InventoryBucket' });
  });

  it('encrypts the bucket, blocks all public access and expires the inventory after a year', () => {
    const bucket = resources.InventoryBucket?.Properties;
    expect(bucket?.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'AES256',
    });
    expect(bucket?.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket?.LifecycleConfiguration.Rules).toEqual([
      {
        Id: 'expire-inventory',
        Status: 'Enabled',
        Prefix: 'remote-sessions/',
        ExpirationInDays: 365,
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
      { Id: 'expire-termination-records', Status: 'Enabled', Prefix: 'terminated/', ExpirationInDays: 2 },
    ]);
  });

  it('updates the active-session index twice a minute from one run a minute, one run at a time, dropping ticks it cannot take', () => {
    const [[, schedule]] = ofType('AWS::Events::Rule').filter(([name]) => name.startsWith('IndexDashsessions')) as [
      [string, Resource],
    ];
    expect(schedule.Properties).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
    expect(schedule.Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': ['IndexDashsessionsLambdaFunction', 'Arn'] });
    expect(fn('IndexDashsessions').Properties).toMatchObject({
      Handler: 'dist/index-sessions/index.handler',
      ReservedConcurrentExecutions: 1,
      MemorySize: 1769,
    });
    // Sized from npm run bench -- scale: the live paths over a million sessions need more than 256 MB's CPU share.
    expect(fn('Drop').Properties.MemorySize).toBe(1024);
    expect(fn('List').Properties.MemorySize).toBe(1024);
    expect(fn('IndexDashsessions').Properties.Environment.Variables).toMatchObject({
      EXPORT_BUCKET: { Ref: 'InventoryBucket' },
      INDEX_FULL_LIST_MINUTES: '60',
      INDEX_MAX_LOOKUPS_PER_MINUTE: '1200',
      INDEX_UPDATES_PER_MINUTE: '2',
    });
    // A run waits 30 s for its second update: the function must be allowed that and the update after it.
    expect(fn('IndexDashsessions').Properties.Timeout).toBeGreaterThanOrEqual(60);
    for (const name of ['Drop', 'Confirm'] as const) {
      expect(fn(name).Properties.Environment.Variables.ENDED_CHECK_ATTEMPTS).toBe('3');
    }
    const config = ofType('AWS::Lambda::EventInvokeConfig')
      .map(([, resource]) => resource)
      .find((resource) => resource.Properties.FunctionName.Ref === 'IndexDashsessionsLambdaFunction');
    expect(config?.Properties).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
    for (const name of ['Drop', 'List'] as const) {
      expect(fn(name).Properties.Environment.Variables).toMatchObject({
        EXPORT_BUCKET: { Ref: 'InventoryBucket' },
        INDEX_MAX_AGE_SECONDS: '600',
      });
    }
  });

  it('refuses every request to the bucket that does not use TLS, and writes under remote-sessions/, index/ and terminated/ to all but their writer', () => {
    expect(resources.InventoryBucketPolicy?.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'RefuseRequestsWithoutTls',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [{ 'Fn::GetAtt': ['InventoryBucket', 'Arn'] }, { 'Fn::Sub': '${InventoryBucket.Arn}/*' }],
        Condition: { Bool: { 'aws:SecureTransport': false } },
      },
      {
        Sid: 'OnlyTheExportWritesTheInventory',
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
        Resource: { 'Fn::Sub': '${InventoryBucket.Arn}/remote-sessions/*' },
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': ['ExportRole', 'Arn'] } } },
      },
      {
        Sid: 'OnlyIndexSessionsWritesTheIndex',
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
        Resource: { 'Fn::Sub': '${InventoryBucket.Arn}/index/*' },
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': ['IndexRole', 'Arn'] } } },
      },
      {
        Sid: 'OnlyTerminationsWriteTheRecords',
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
        Resource: { 'Fn::Sub': '${InventoryBucket.Arn}/terminated/*' },
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': [DROP_ROLE, CONFIRM_ROLE] } },
      },
    ]);
    // Each writer's own policy covers the prefix it alone may write.
    const writes = (role: RoleName) =>
      statements(role)
        .filter((statement) => [statement.Action].flat().includes('s3:PutObject'))
        .map((statement) => statement.Resource);
    expect(writes('ExportRole')).toEqual([{ 'Fn::Sub': '${InventoryBucket.Arn}/remote-sessions/*' }]);
    expect(writes('IndexRole')).toEqual([{ 'Fn::Sub': '${InventoryBucket.Arn}/index/active-sessions.json' }]);
    expect(writes('DropRole')).toEqual([{ 'Fn::Sub': '${InventoryBucket.Arn}/terminated/*' }]);
  });

  it("defines the Athena table over the JSON Lines, with the export's columns and a projected dt partition", () => {
    const table = resources.RemoteSessionsTable?.Properties.TableInput;
    expect(table.StorageDescriptor.Columns.map((column: { Name: string }) => column.Name)).toEqual(
      SESSION_COLUMNS.map((column) => column.toLowerCase()),
    );
    expect(table.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
    expect(table.StorageDescriptor.Location).toEqual({ 'Fn::Sub': 's3://${InventoryBucket}/remote-sessions/' });
    expect(table.PartitionKeys).toEqual([{ Name: 'dt', Type: 'string' }]);
    expect(table.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
    });
  });
});

/** Every resource a resource refers to (Ref, Fn::GetAtt, and ${Name} or ${Name.Attr} in Fn::Sub). */
function referencesOf(node: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) referencesOf(item, into);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Ref' && typeof value === 'string') into.add(value);
      else if (key === 'Fn::GetAtt')
        into.add(Array.isArray(value) ? String(value[0]) : (String(value).split('.')[0] ?? ''));
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(value) ? String(value[0]) : String(value);
        for (const [, name] of text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z.]+)?\}/g)) into.add(name ?? '');
        referencesOf(Array.isArray(value) ? value[1] : undefined, into);
      } else referencesOf(value, into);
    }
  }
  return into;
}

describe('what protects the product from a principal of this account (issue: planted records, a flooded PAM Core)', () => {
  const denies = () =>
    resources.InventoryBucketPolicy?.Properties.PolicyDocument.Statement.filter((s: any) => s.Effect === 'Deny');

  it('lets only the role that writes each prefix put or delete objects there, whatever an identity policy allows', () => {
    const writers = {
      'remote-sessions': { 'Fn::GetAtt': ['ExportRole', 'Arn'] },
      index: { 'Fn::GetAtt': ['IndexRole', 'Arn'] },
      terminated: [DROP_ROLE, CONFIRM_ROLE],
    };
    for (const [prefix, roles] of Object.entries(writers)) {
      const statement = denies().find((s: any) => JSON.stringify(s.Resource).includes(`/${prefix}/*`));
      expect(statement, prefix).toMatchObject({
        Principal: '*',
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': roles } },
      });
      expect(statement.Action).toEqual(expect.arrayContaining(['s3:PutObject', 's3:DeleteObject']));
    }
  });

  it('keeps the idempotency table with TTL and point-in-time recovery, written by drop and confirm alone', () => {
    const table = resources.IdempotencyTable?.Properties;
    expect(table).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(table?.ResourcePolicy.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Principal: '*',
        Action: expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']),
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': [DROP_ROLE, CONFIRM_ROLE] } },
      }),
    ]);
    expect(fn('Drop').Properties.Environment.Variables.IDEMPOTENCY_TABLE).toEqual({ Ref: 'IdempotencyTable' });
    const onTable = [...(['ListRole', 'DropRole', 'ConfirmRole', 'ExportRole', 'IndexRole'] as const)].flatMap((role) =>
      statements(role)
        .filter((s) => JSON.stringify(s.Action).includes('dynamodb:'))
        .map((s) => ({ role, ...s })),
    );
    expect(onTable).toEqual([
      {
        role: 'DropRole',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/pam-session-responder-dev-idempotency',
        },
      },
      {
        role: 'ConfirmRole',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/pam-session-responder-dev-idempotency',
        },
      },
    ]);
    expect(table?.TableName).toBe('pam-session-responder-dev-idempotency');
  });

  it('has no dependency cycle CloudFormation would refuse', () => {
    const edges = new Map(
      Object.entries(resources).map(([name, resource]) => [
        name,
        [...referencesOf(resource)].filter((ref) => ref in resources),
      ]),
    );
    const state = new Map<string, 'visiting' | 'done'>();
    const cycle: string[] = [];
    const visit = (name: string, path: string[]): boolean => {
      if (state.get(name) === 'done') return false;
      if (state.get(name) === 'visiting') {
        cycle.push(...path.slice(path.indexOf(name)), name);
        return true;
      }
      state.set(name, 'visiting');
      for (const next of edges.get(name) ?? []) if (visit(next, [...path, name])) return true;
      state.set(name, 'done');
      return false;
    };
    for (const name of edges.keys()) if (visit(name, [])) break;
    expect(cycle).toEqual([]);
  });

  it('caps list at 2 at once and throttles the HTTP API stage: paging analysts cannot starve drop of the PAM Core', () => {
    expect(fn('List').Properties.ReservedConcurrentExecutions).toBe(2);
    expect(resources.HttpApiStage?.Properties.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 10,
      ThrottlingBurstLimit: 20,
    });
  });
});
