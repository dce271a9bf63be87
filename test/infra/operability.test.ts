import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageTemplate, type Resource, type Template } from '../support/package-template.js';
import { conditionValues, resolveIfs } from '../support/template-conditions.js';

/*
 * What the template gives on-call and the network, packaged twice: with the defaults, and with every operational
 * param set on the command line as docs/deploy.md says (`--param="name=value"`, lists comma-separated). Limits looked
 * up: CloudWatch Logs' RetentionInDays takes only the listed values (AmazonCloudWatchLogs/latest/APIReference/
 * API_PutRetentionPolicy.html); a resource policy's document is at most 5,120 characters
 * (API_PutResourcePolicy.html); Lambda's asynchronous MaximumEventAgeInSeconds is 60-21,600 and a rule target's
 * 60-86,400 (lambda/latest/api/API_PutFunctionEventInvokeConfig.html, eventbridge/latest/APIReference/API_RetryPolicy.html);
 * an alarm's description at most 1,024 characters (API_PutMetricAlarm.html).
 */

const OPERATED = {
  vpcSubnetIds: 'subnet-0a1b2c3d,subnet-4e5f6a7b',
  vpcSecurityGroupIds: 'sg-0123456789abcdef0,sg-0fedcba9876543210',
  createVpcEndpoints: 'true',
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  vpcRouteTableIds: 'rtb-0a1b2c3d,rtb-4e5f6a7b',
  tracing: 'true',
  maxEventAgeMinutes: '30',
  auditArchiveRetentionDays: '730',
  auditLogRetentionDays: '731',
  terminationRequestSources: 'siem.,soar.,xdr.',
  securityHubSeverityLabels: 'CRITICAL',
};
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

let defaults: Template;
let operated: Template;
let cleanup = () => {};

beforeAll(async () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'pam-ops-')), mkdtempSync(join(tmpdir(), 'pam-ops-set-'))];
  cleanup = () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  // One after the other: two packagings of one service at once trip over each other.
  ({ template: defaults } = await packageTemplate({ packageDir: dirs[0] }));
  ({ template: operated } = await packageTemplate({ packageDir: dirs[1], params: OPERATED }));
}, 180_000);
afterAll(() => cleanup());

/** The template as CloudFormation would create it: conditions evaluated, Fn::If taken, conditional resources left out. */
function created(template: Template): Record<string, Resource> {
  const conditions = conditionValues(template.Conditions);
  return Object.fromEntries(
    Object.entries(template.Resources)
      .filter(([, resource]) => {
        const condition = (resource as { Condition?: string }).Condition;
        return condition === undefined || conditions[condition];
      })
      .map(([name, resource]) => [name, resolveIfs(resource, conditions)]),
  );
}

const ofType = (resources: Record<string, Resource>, type: string) =>
  Object.entries(resources).filter(([, resource]) => resource.Type === type);
const FUNCTIONS = [
  'ListLambdaFunction',
  'DropLambdaFunction',
  'ExportLambdaFunction',
  'IndexDashsessionsLambdaFunction',
];
const ROLES = ['ListRole', 'DropRole', 'ExportRole', 'IndexRole'];
const statementsOf = (role: Resource) => role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);

describe('the network path to the PAM Core', () => {
  it('runs no function in a VPC and creates no endpoint by default', () => {
    const resources = created(defaults);
    for (const name of FUNCTIONS) expect(resources[name]?.Properties.VpcConfig, name).toBeUndefined();
    expect(ofType(resources, 'AWS::EC2::VPCEndpoint')).toEqual([]);
    for (const role of ROLES)
      expect(JSON.stringify(statementsOf(resources[role] as Resource)), role).not.toContain('ec2:');
  });

  it('runs every function that calls the PAM Core in the subnets and security groups given, with the ENI permissions', () => {
    const resources = created(operated);
    for (const name of FUNCTIONS)
      expect(resources[name]?.Properties.VpcConfig, name).toEqual({
        SubnetIds: ['subnet-0a1b2c3d', 'subnet-4e5f6a7b'],
        SecurityGroupIds: ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'],
      });
    for (const role of ROLES)
      expect(statementsOf(resources[role] as Resource), role).toContainEqual({
        Effect: 'Allow',
        Action: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        Resource: '*',
      });
  });

  it('adds, with createVpcEndpoints, every endpoint the functions call AWS through, without a NAT', () => {
    const endpoints = ofType(created(operated), 'AWS::EC2::VPCEndpoint').map(([, endpoint]) => endpoint.Properties);
    const service = (endpoint: any) => endpoint.ServiceName['Fn::Sub'].replace('com.amazonaws.${AWS::Region}.', '');
    const interfaces = endpoints.filter((endpoint) => endpoint.VpcEndpointType === 'Interface');
    expect(interfaces.map(service).sort()).toEqual(
      ['events', 'monitoring', 'scheduler', 'secretsmanager', 'securityhub', 'sns'].sort(),
    );
    for (const endpoint of interfaces)
      expect(endpoint).toMatchObject({
        VpcId: 'vpc-0a1b2c3d4e5f60718',
        SubnetIds: ['subnet-0a1b2c3d', 'subnet-4e5f6a7b'],
        SecurityGroupIds: [{ Ref: 'VpcEndpointSecurityGroup' }],
        PrivateDnsEnabled: true,
      });
    const gateways = endpoints.filter((endpoint) => endpoint.VpcEndpointType === 'Gateway');
    expect(gateways.map(service).sort()).toEqual(['dynamodb', 's3']);
    for (const endpoint of gateways) expect(endpoint.RouteTableIds).toEqual(['rtb-0a1b2c3d', 'rtb-4e5f6a7b']);
    // HTTPS only, from the functions' first security group.
    expect(created(operated).VpcEndpointSecurityGroup?.Properties.SecurityGroupIngress).toEqual([
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourceSecurityGroupId: 'sg-0123456789abcdef0' },
    ]);
  });
});

describe('the audit trail', () => {
  const subOf = (node: any, resources: Record<string, Resource>) =>
    (node['Fn::Sub'] as string).replace(/\$\{([A-Za-z]+)\.Arn\}/g, (_m, id: string) => {
      if (!resources[id]) throw new Error(`${id} is not in the template`);
      return `arn-of-${id}`;
    });

  it('archives every audit event on the audit bus, kept auditArchiveRetentionDays, beyond the stack', () => {
    for (const [template, days] of [
      [defaults, 365],
      [operated, 730],
    ] as const) {
      const archive = template.Resources.AuditArchive as Resource & { DeletionPolicy?: string };
      expect(archive.Properties).toMatchObject({
        SourceArn: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' },
        EventPattern: { source: ['pam.session-responder'] },
      });
      // A --param is text, which CloudFormation reads as the integer it spells.
      expect(Number(archive.Properties.RetentionDays)).toBe(days);
      expect(archive.DeletionPolicy).toBe('Retain');
    }
  });

  it('copies the same events to a log group EventBridge may write to, and only this rule', () => {
    const resources = defaults.Resources;
    const rule = resources.AuditLogRule?.Properties ?? {};
    expect(rule).toMatchObject({ EventBusName: 'default', EventPattern: { source: ['pam.session-responder'] } });
    expect(rule.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${AuditLogGroup}' },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['RulesDeadLetterQueue', 'Arn'] } },
      }),
    ]);
    const document = subOf(resources.AuditLogGroupPolicy?.Properties.PolicyDocument, resources);
    expect(document.length).toBeLessThanOrEqual(5_120);
    expect(JSON.parse(document).Statement).toEqual([
      {
        Sid: 'AuditRuleDelivers',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: 'arn-of-AuditLogGroup',
        Condition: { ArnEquals: { 'aws:SourceArn': 'arn-of-AuditLogRule' } },
      },
    ]);
    expect((resources.AuditLogGroup as Resource & { DeletionPolicy?: string }).DeletionPolicy).toBe('Retain');
    expect(defaults.Outputs.AuditLogGroupName?.Value).toEqual({ Ref: 'AuditLogGroup' });
  });

  it('keeps the log group auditLogRetentionDays, a retention CloudWatch Logs accepts', () => {
    const retention = (template: Template) => Number(template.Resources.AuditLogGroup?.Properties.RetentionInDays);
    expect(retention(defaults)).toBe(365);
    expect(retention(operated)).toBe(731);
    for (const template of [defaults, operated]) expect(LOG_RETENTION_DAYS).toContain(retention(template));
  });
});

describe('removing a stage', () => {
  it('keeps the audit archive, the audit log group and the inventory bucket (docs/deploy.md, "Removing a stage")', () => {
    // osls retains each Lambda version through updates; deleting the function deletes its versions.
    const retained = Object.entries(defaults.Resources)
      .filter(([, resource]) => resource.Type !== 'AWS::Lambda::Version')
      .filter(([, resource]) => (resource as Resource & { DeletionPolicy?: string }).DeletionPolicy === 'Retain')
      .map(([name]) => name);
    expect(retained.sort()).toEqual(['AuditArchive', 'AuditLogGroup', 'InventoryBucket']);
    const deploy = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
    for (const what of ['audit archive', 'audit log group', 'inventory bucket'])
      expect(deploy).toContain(`**${what}**`);
  });
});

describe('the maximum event age', () => {
  const ruleAges = (template: Template) =>
    Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::Events::Rule' && resource.Properties.Targets[0].RetryPolicy)
      .map((rule) => rule.Properties.Targets[0].RetryPolicy.MaximumEventAgeInSeconds);

  it("is drop's MAX_EVENT_AGE_MINUTES, and bounds the rules' and Lambda's retries alike", () => {
    for (const [template, minutes] of [
      [defaults, 60],
      [operated, 30],
    ] as const) {
      const drop = template.Resources.DropLambdaFunction?.Properties ?? {};
      expect(drop.Environment.Variables.MAX_EVENT_AGE_MINUTES).toBe(String(minutes));
      expect(ruleAges(template)).toEqual([minutes * 60, minutes * 60, minutes * 60, minutes * 60]);
      expect(template.Resources.DropLambdaEvConf?.Properties.MaximumEventAgeInSeconds).toBe(minutes * 60);
    }
  });

  it("stays within what Lambda's asynchronous retries accept (60 s to 6 h), which lib/core/settings.ts enforces too", async () => {
    const { terminationSettings } = await import('../../lib/core/settings.js');
    process.env.MAX_EVENT_AGE_MINUTES = '361';
    try {
      expect(() => terminationSettings()).toThrow(/MAX_EVENT_AGE_MINUTES must be a whole number from 1 to 360/);
    } finally {
      delete process.env.MAX_EVENT_AGE_MINUTES;
    }
    expect(terminationSettings().maxEventAgeMs).toBe(3_600_000);
  });
});

describe('tracing', () => {
  it('is off by default: PassThrough, the Tracer not enabled, no X-Ray permission', () => {
    const resources = created(defaults);
    for (const name of FUNCTIONS) {
      expect(resources[name]?.Properties.TracingConfig, name).toEqual({ Mode: 'PassThrough' });
      expect(resources[name]?.Properties.Environment.Variables.POWERTOOLS_TRACE_ENABLED, name).toBe('false');
    }
    for (const role of ROLES) expect(JSON.stringify(statementsOf(resources[role] as Resource))).not.toContain('xray');
  });

  it("is on with tracing=true: Active, the Tracer enabled, and X-Ray's two write permissions", () => {
    const resources = created(operated);
    for (const name of FUNCTIONS) {
      expect(resources[name]?.Properties.TracingConfig, name).toEqual({ Mode: 'Active' });
      expect(resources[name]?.Properties.Environment.Variables.POWERTOOLS_TRACE_ENABLED, name).toBe('true');
    }
    for (const role of ROLES)
      expect(statementsOf(resources[role] as Resource), role).toContainEqual({
        Effect: 'Allow',
        Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        Resource: '*',
      });
  });
});

describe('list params, set with --param', () => {
  it('are comma-separated, in the rules and in drop alike', () => {
    const patterns = Object.values(operated.Resources)
      .filter((resource) => resource.Type === 'AWS::Events::Rule')
      .map((rule) => rule.Properties.EventPattern);
    expect(patterns).toContainEqual({
      source: [{ prefix: 'siem.' }, { prefix: 'soar.' }, { prefix: 'xdr.' }],
      'detail-type': ['PAM Session Termination Requested'],
    });
    const imported = patterns.find((pattern) => pattern?.['detail-type']?.[0] === 'Security Hub Findings - Imported');
    expect(imported.detail.findings.Severity.Label).toEqual(['CRITICAL']);
    expect(operated.Resources.DropLambdaFunction?.Properties.Environment.Variables.SECURITYHUB_SEVERITY_LABELS).toBe(
      'CRITICAL',
    );
  });
});

describe('the alarms', () => {
  const alarms = () => ofType(defaults.Resources, 'AWS::CloudWatch::Alarm');
  const runbook = readFileSync(new URL('../../docs/runbook.md', import.meta.url), 'utf8');
  /** GitHub's anchor for each heading of the runbook. */
  const anchors = new Set(
    [...runbook.matchAll(/^#+ (.+)$/gm)].map(([, heading]) =>
      (heading ?? '')
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, '')
        .replace(/ /g, '-'),
    ),
  );
  const metricOf = (alarm: Resource) => alarm.Properties.MetricName;
  const dimension = (alarm: Resource, name: string) =>
    alarm.Properties.Dimensions?.find((d: { Name: string }) => d.Name === name)?.Value;

  it('each notify the topic when they fire and when they clear, and name their section of docs/runbook.md', () => {
    expect(alarms().length).toBeGreaterThan(20);
    for (const [name, alarm] of alarms()) {
      expect(alarm.Properties.AlarmActions, name).toEqual([{ Ref: 'AlarmTopic' }]);
      expect(alarm.Properties.OKActions, name).toEqual([{ Ref: 'AlarmTopic' }]);
      const description: string = alarm.Properties.AlarmDescription;
      expect(description.length, name).toBeLessThanOrEqual(1_024);
      const anchor = /Runbook: docs\/runbook\.md#([a-z0-9-]+)$/.exec(description)?.[1];
      expect(anchor, `${name}: ${description}`).toBeDefined();
      expect([...anchors], name).toContain(anchor);
    }
  });

  it("cover every function's errors and throttles and the HTTP API's 5xx, on the first in a minute", () => {
    for (const fn of FUNCTIONS)
      for (const metric of ['Errors', 'Throttles']) {
        const found = alarms().filter(
          ([, alarm]) => metricOf(alarm) === metric && dimension(alarm, 'FunctionName')?.Ref === fn,
        );
        expect(found, `${fn} ${metric}`).toHaveLength(1);
        expect(found[0]?.[1].Properties).toMatchObject({ Statistic: 'Sum', Period: 60, Threshold: 0 });
      }
    expect(
      alarms().filter(([, alarm]) => metricOf(alarm) === '5xx' && dimension(alarm, 'ApiId')?.Ref === 'HttpApi'),
    ).toHaveLength(1);
  });

  it("cover each rule's FailedInvocations, by the name the template gives the rule", () => {
    const rules = ofType(defaults.Resources, 'AWS::Events::Rule').map(([, rule]) => rule.Properties.Name);
    expect(rules).toHaveLength(7);
    const watched = alarms()
      .filter(([, alarm]) => metricOf(alarm) === 'FailedInvocations')
      .map(([, alarm]) => dimension(alarm, 'RuleName'));
    expect(watched.sort()).toEqual(rules.sort());
  });

  it('cover PAM authentication failures and an unreadable secret by error code, for the stage', () => {
    const service = { Name: 'service', Value: 'pam-session-responder-dev' };
    expect(defaults.Resources.PamUnauthorizedAlarm?.Properties).toMatchObject({
      Namespace: 'PamSessionResponder',
      MetricName: 'Errors',
      Dimensions: [service, { Name: 'code', Value: 'pam_unauthorized' }],
      Threshold: 0,
    });
    const secret = defaults.Resources.PamSecretUnreadableAlarm?.Properties ?? {};
    const codes = secret.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric.Dimensions);
    expect(codes).toEqual([
      [service, { Name: 'code', Value: 'configuration_error' }],
      [service, { Name: 'code', Value: 'secrets_unavailable' }],
    ]);
    expect(secret.Metrics.filter((m: any) => m.ReturnData)).toEqual([
      expect.objectContaining({ Expression: 'FILL(configuration, 0) + FILL(unavailable, 0)' }),
    ]);
  });

  it('cover a stale index: IndexAge past indexMaxAgeSeconds, or missing for ten minutes', () => {
    const stale = defaults.Resources.IndexStaleAlarm?.Properties ?? {};
    const maxAge = Number(
      defaults.Resources.DropLambdaFunction?.Properties.Environment.Variables.INDEX_MAX_AGE_SECONDS,
    );
    expect(stale).toMatchObject({
      Threshold: maxAge,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
    });
    expect(stale.Metrics).toEqual([
      expect.objectContaining({
        MetricStat: expect.objectContaining({
          Metric: expect.objectContaining({ MetricName: 'IndexAge' }),
          Period: 300,
          Stat: 'Maximum',
        }),
      }),
      expect.objectContaining({ Expression: 'age / 1000', ReturnData: true }),
    ]);
  });
});
