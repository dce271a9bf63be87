/**
 * The CloudWatch dashboard's body, as serverless.yml deploys it (`${file(infra/dashboard/dashboard.cjs)}`): a JSON
 * string inside Fn::Sub, so that the region, the queues' names and the alarms' ARNs resolve at deploy time. Built
 * here rather than written out so that it is valid JSON by construction; test/infra/dashboard.test.ts resolves the
 * packaged template's Fn::Sub and checks every metric it names against what the code emits, and every alarm against
 * the template. The README's "Watching it" says what each widget shows.
 * (CommonJS because osls resolves `${file()}` only from .js/.cjs files it can require.)
 */

// The stack's alarms, all of them: the test fails when one is added to serverless.yml and not here.
const ALARMS = [
  'RulesDeadLetterQueueAlarm',
  'DropFailuresQueueAlarm',
  'ListErrorsAlarm',
  'DropErrorsAlarm',
  'ConfirmErrorsAlarm',
  'CredentialsErrorsAlarm',
  'ExportErrorsAlarm',
  'IndexSessionsErrorsAlarm',
  'ListThrottlesAlarm',
  'DropThrottlesAlarm',
  'ConfirmThrottlesAlarm',
  'CredentialsThrottlesAlarm',
  'ExportThrottlesAlarm',
  'IndexSessionsThrottlesAlarm',
  'HttpApi5xxAlarm',
  'TerminationRequestsRuleFailedAlarm',
  'GuardDutyRuleFailedAlarm',
  'SecurityHubRuleFailedAlarm',
  'CustomActionRuleFailedAlarm',
  'ExportScheduleFailedAlarm',
  'IndexScheduleFailedAlarm',
  'AuditLogRuleFailedAlarm',
  'TerminationBlockedAlarm',
  'TerminationFailedAlarm',
  'TerminationUnconfirmedAlarm',
  'PamUnauthorizedAlarm',
  'PamSecretUnreadableAlarm',
  'IndexStaleAlarm',
];
// lib/termination/outcome.ts OUTCOME_KINDS, then outcome-metrics.ts WRITE_BACK_FAILED.
const OUTCOMES = [
  'terminated',
  'already_ended',
  'skipped_protected',
  'would_terminate',
  'would_block',
  'blocked',
  'rejected',
  'failed',
];
// lib/core/error-metrics.ts ERRORS_METRIC, by the codes of lib/core/errors.ts an operator acts on.
const ERROR_CODES = [
  'pam_unauthorized',
  'pam_timeout',
  'pam_unreachable',
  'pam_tls',
  'pam_rejected',
  'pam_bad_response',
  'configuration_error',
  'secrets_unavailable',
  'storage_unavailable',
  'termination_incomplete',
  'internal_error',
];
// serverless.yml's functions, by their CloudFormation logical ids.
const FUNCTIONS = [
  ['ListLambdaFunction', 'list'],
  ['DropLambdaFunction', 'drop'],
  ['ConfirmLambdaFunction', 'confirm'],
  ['CredentialsLambdaFunction', 'credentials'],
  ['ExportLambdaFunction', 'export'],
  ['IndexDashsessionsLambdaFunction', 'index-sessions'],
];
// serverless.yml's rules, by the names it gives them after the stage.
const RULES = [
  'termination-requests',
  'guardduty-findings',
  'securityhub-findings',
  'securityhub-custom-action',
  'export-schedule',
  'index-schedule',
  'audit-to-logs',
];
// lib/termination/termination-request.ts TRIGGER_KINDS.
const TRIGGERS = ['guardduty', 'securityhub', 'request', 'http', 'invoke'];
const QUEUES = [
  ['RulesDeadLetterQueue', 'EventBridge could not deliver (rules DLQ)'],
  ['DropFailuresQueue', 'drop failed after its retries (on-failure queue)'],
];

// biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub's placeholder, which CloudFormation resolves.
const REGION = '${AWS::Region}';

function widget(x, y, width, height, properties) {
  return { type: 'metric', x, y, width, height, properties: { region: REGION, view: 'timeSeries', ...properties } };
}

function dashboardBody({ namespace, service, stage, indexMaxAgeSeconds }) {
  // A metric of this service: namespace, name, the service dimension, then any other dimension and the rendering.
  const own = (name, ...rest) => [namespace, name, 'service', service, ...rest];
  const timeToCut = (x, stat) =>
    widget(x, 8, 8, 6, {
      title: `Time to cut, ${stat} per trigger (ms)`,
      stat,
      period: 300,
      metrics: TRIGGERS.map((trigger) => own('TimeToCut', 'trigger', trigger, { label: trigger })),
    });
  return {
    start: '-PT12H',
    periodOverride: 'inherit',
    widgets: [
      {
        type: 'text',
        x: 0,
        y: 0,
        width: 24,
        height: 2,
        properties: {
          markdown: [
            `## pam-session-responder, stage ${stage}`,
            'Deployed from serverless.yml (infra/dashboard/dashboard.cjs): edits made here are lost at the next deploy. ' +
              'What each graph means and when to worry: docs/runbook.md (each alarm has a section there).',
          ].join('\n'),
        },
      },
      widget(0, 2, 12, 6, {
        title:
          'Outcomes per kind, terminations PAM did not confirm, failed write-backs to Security Hub (count per 5 min)',
        stat: 'Sum',
        period: 300,
        metrics: [...OUTCOMES, 'TerminationUnconfirmed', 'WriteBackFailed'].map((name) => own(name, { label: name })),
      }),
      {
        type: 'alarm',
        x: 12,
        y: 2,
        width: 12,
        height: 6,
        properties: {
          title: 'Alarms',
          sortBy: 'stateUpdatedTimestamp',
          alarms: ALARMS.map((alarm) => `\${${alarm}.Arn}`),
        },
      },
      timeToCut(0, 'p50'),
      timeToCut(8, 'p95'),
      timeToCut(16, 'Maximum'),
      widget(0, 14, 12, 6, {
        title: 'Active-session index: age when replaced, list duration (ms); active sessions, lookups, fallbacks',
        stat: 'Maximum',
        period: 60,
        metrics: [
          own('IndexAge', { label: 'IndexAge: how old the index readers used had become' }),
          own('IndexListDuration', { label: 'IndexListDuration' }),
          own('IndexActiveSessions', { label: 'IndexActiveSessions', yAxis: 'right' }),
          own('IndexLookups', { label: 'IndexLookups: one refresh (a minute)', yAxis: 'right' }),
          own('FullListFallback', {
            label: 'FullListFallback: full lists read because lookups could not answer',
            stat: 'Sum',
            yAxis: 'right',
          }),
        ],
        annotations: {
          horizontal: [
            {
              label: 'indexMaxAgeSeconds: older, terminations wait on the live list',
              value: indexMaxAgeSeconds * 1000,
            },
          ],
        },
      }),
      widget(12, 14, 12, 6, {
        title: 'Messages waiting in the dead-letter and on-failure queues',
        stat: 'Maximum',
        period: 60,
        metrics: QUEUES.map(([queue, label]) => [
          'AWS/SQS',
          'ApproximateNumberOfMessagesVisible',
          'QueueName',
          `\${${queue}.QueueName}`,
          { label },
        ]),
      }),
      // The export runs once a day: two weeks of it.
      widget(0, 20, 12, 6, {
        title: 'Inventory export: duration (ms)',
        start: '-P14D',
        stat: 'Maximum',
        period: 86400,
        metrics: [own('ExportDuration', { label: 'ExportDuration' })],
      }),
      widget(12, 20, 12, 6, {
        title: 'Inventory export: compressed bytes written, sessions',
        start: '-P14D',
        stat: 'Maximum',
        period: 86400,
        metrics: [
          own('ExportBytes', { label: 'ExportBytes' }),
          own('ExportSessions', { label: 'ExportSessions', yAxis: 'right' }),
        ],
      }),
      widget(0, 26, 12, 6, {
        title: 'Function errors and throttles (count per minute)',
        stat: 'Sum',
        period: 60,
        metrics: FUNCTIONS.flatMap(([logicalId, name]) => [
          ['AWS/Lambda', 'Errors', 'FunctionName', `\${${logicalId}}`, { label: `${name} errors` }],
          ['AWS/Lambda', 'Throttles', 'FunctionName', `\${${logicalId}}`, { label: `${name} throttles` }],
        ]),
      }),
      widget(12, 26, 12, 6, {
        title: 'HTTP API 5xx; events the rules could not deliver (count per minute)',
        stat: 'Sum',
        period: 60,
        metrics: [
          ['AWS/ApiGateway', '5xx', 'ApiId', `\${HttpApi}`, { label: 'HTTP API 5xx' }],
          ...RULES.map((rule) => [
            'AWS/Events',
            'FailedInvocations',
            'RuleName',
            `pam-${stage}-${rule}`,
            { label: `${rule} FailedInvocations` },
          ]),
        ],
      }),
      widget(0, 32, 24, 6, {
        title:
          'Errors by code: pam_unauthorized is expired PAM credentials; configuration_error, secrets_unavailable an unreadable secret',
        stat: 'Sum',
        period: 300,
        metrics: ERROR_CODES.map((code) => own('Errors', 'code', code, { label: code })),
      }),
    ],
  };
}

/** osls calls this with its variable resolver: the body, minified, in Fn::Sub. */
async function resolveDashboardBody({ resolveVariable }) {
  const body = dashboardBody({
    namespace: await resolveVariable('self:provider.environment.POWERTOOLS_METRICS_NAMESPACE'),
    service: await resolveVariable('self:provider.environment.POWERTOOLS_SERVICE_NAME'),
    stage: await resolveVariable('sls:stage'),
    indexMaxAgeSeconds: Number(await resolveVariable('param:indexMaxAgeSeconds')),
  });
  return { 'Fn::Sub': JSON.stringify(body) };
}

module.exports = Object.assign(resolveDashboardBody, { dashboardBody, ALARMS, ERROR_CODES });
