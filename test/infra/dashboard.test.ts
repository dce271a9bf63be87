import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../lib/aws/aws-errors.js';
import { CODE_DIMENSION, ERRORS_METRIC } from '../../lib/core/error-metrics.js';
import { ConfigurationError } from '../../lib/core/errors.js';
import { INVENTORY_METRICS } from '../../lib/inventory/inventory-metrics.js';
import { PamApiError, type PamFailureKind, SecretsUnavailableError } from '../../lib/pam/pam-errors.js';
import { OUTCOME_KINDS } from '../../lib/termination/outcome.js';
import {
  TERMINATION_UNCONFIRMED,
  TIME_TO_CUT,
  TRIGGER_DIMENSION,
  WRITE_BACK_FAILED,
} from '../../lib/termination/outcome-metrics.js';
import { TerminationIncompleteError } from '../../lib/termination/termination-errors.js';
import { TRIGGER_KINDS } from '../../lib/termination/termination-request.js';
import { packageTemplate, type Resource, type Template } from '../support/package-template.js';

/*
 * The dashboard serverless.yml deploys (infra/dashboard/dashboard.cjs builds its body), checked on the packaged
 * template. CloudWatch's documented limits (AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure
 * .html and monitoring/cloudwatch_limits.html): a body of 0 to 500 widgets on a 24-column grid (x 0-23, width 1-24,
 * height 1-1000); at most 500 metrics per widget and 2,500 per dashboard; an alarm widget lists 1 to 100 alarm ARNs.
 * Neither the PutDashboard API nor the quotas page gives a size in bytes for DashboardBody: the byte limit that binds
 * is CloudFormation's on the template that carries it (460,800 bytes from S3, where osls uploads it: AWSCloudFormation/
 * latest/UserGuide/cloudformation-limits.html; AWS has since raised it to 1 MB).
 */

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const TEMPLATE_BYTES_LIMIT = 460_800;

let template: Template;
let templateBytes: number;
let cleanup = () => {};

beforeAll(async () => {
  const packageDir = mkdtempSync(join(tmpdir(), 'pam-dashboard-'));
  cleanup = () => rmSync(packageDir, { recursive: true, force: true });
  ({ template } = await packageTemplate({ packageDir }));
  templateBytes = readFileSync(join(packageDir, 'cloudformation-template-update-stack.json')).length;
}, 120_000);
afterAll(() => cleanup());

/** What a Fn::Sub placeholder becomes, as CloudFormation would resolve it in REGION and ACCOUNT. */
function placeholder(name: string, variables: Record<string, unknown>, resources: Record<string, Resource>): string {
  if (name in variables) {
    const value = variables[name];
    if (typeof value !== 'string') throw new Error(`Fn::Sub variable ${name} is not a plain string`);
    return value;
  }
  const pseudo: Record<string, string> = { 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT, 'AWS::Partition': 'aws' };
  if (name in pseudo) return pseudo[name] as string;
  const [logicalId = '', attribute] = name.split('.');
  const resource = resources[logicalId];
  if (!resource) throw new Error(`Fn::Sub names ${logicalId}, which the template does not create`);
  if (attribute === undefined) return `${logicalId}-ref`;
  // The attributes the dashboard may read, as each resource type returns them.
  const attributes: Record<string, Record<string, string>> = {
    'AWS::CloudWatch::Alarm': { Arn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:stack-${logicalId}-ABC123` },
    'AWS::SQS::Queue': { QueueName: `stack-${logicalId}-ABC123` },
  };
  const value = attributes[resource.Type]?.[attribute];
  if (value === undefined) throw new Error(`Fn::Sub reads ${resource.Type} ${logicalId}.${attribute}, not known here`);
  return value;
}

/** Fn::Sub (a string, or a string and its variables) resolved: "${!x}" is a literal "${x}". */
function resolveSub(node: unknown, resources: Record<string, Resource>): string {
  const sub = (node as { 'Fn::Sub'?: unknown })?.['Fn::Sub'];
  const [text, variables] = Array.isArray(sub) ? sub : [sub, {}];
  if (typeof text !== 'string') throw new Error(`not a Fn::Sub of a string: ${JSON.stringify(node)}`);
  return text.replace(/\$\{(!?)([^}]*)\}/g, (_match, literal: string, name: string) =>
    literal ? `\${${name}}` : placeholder(name, variables as Record<string, unknown>, resources),
  );
}

interface Widget {
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
  properties: Record<string, any>;
}

/** One metric of a widget: "." repeats the row above, as the dashboard syntax allows. */
interface MetricRow {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  stat: string;
}

function metricRows(widget: Widget): MetricRow[] {
  let previous: unknown[] = [];
  return (widget.properties.metrics ?? []).map((row: unknown[]) => {
    const options = (typeof row.at(-1) === 'object' ? row.at(-1) : {}) as { stat?: string; expression?: string };
    if (options.expression) throw new Error('metric math: name what it reads instead, so the test can check it');
    const fields = (typeof row.at(-1) === 'object' ? row.slice(0, -1) : row).map((field, index) =>
      field === '.' ? previous[index] : field,
    ) as string[];
    previous = fields;
    const [namespace = '', name = '', ...pairs] = fields;
    const dimensions: Record<string, string> = {};
    for (let index = 0; index < pairs.length; index += 2)
      dimensions[pairs[index] as string] = pairs[index + 1] as string;
    return { namespace, name, dimensions, stat: options.stat ?? widget.properties.stat };
  });
}

let body: { widgets: Widget[]; [key: string]: unknown };
let rows: MetricRow[];

beforeAll(() => {
  const properties = template.Resources.Dashboard?.Properties;
  body = JSON.parse(resolveSub(properties?.DashboardBody, template.Resources));
  rows = body.widgets.filter((widget) => widget.type === 'metric').flatMap(metricRows);
});

/** The codes lib/core/errors.ts gives (internal_error: what lib/invocation/http-response.ts counts for the rest). */
const KINDS: PamFailureKind[] = ['rejected', 'unauthorized', 'timeout', 'unreachable', 'tls', 'bad_response'];
const ERROR_CODES = new Set([
  ...KINDS.map((kind) => new PamApiError({ kind, message: '', retryable: false }).code),
  ...[ConfigurationError, SecretsUnavailableError, StorageUnavailableError, TerminationIncompleteError].map(
    (type) => new type('').code,
  ),
  'internal_error',
]);
const { ERROR_CODES: SHOWN_CODES } = createRequire(import.meta.url)('../../infra/dashboard/dashboard.cjs') as {
  ERROR_CODES: string[];
};

const functionEnvironments = () =>
  Object.values(template.Resources)
    .filter((resource) => resource.Type === 'AWS::Lambda::Function')
    .map((resource) => resource.Properties.Environment.Variables);

/** Every rule's name in the template: each rule is named (FailedInvocations is by rule name). */
const ruleNames = () =>
  Object.values(template.Resources)
    .filter((resource) => resource.Type === 'AWS::Events::Rule')
    .map((resource) => resource.Properties.Name as string);

describe('the CloudWatch dashboard', () => {
  it('is one dashboard, named for the stage and the region (dashboards are global to the account)', () => {
    const dashboards = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Dashboard');
    expect(dashboards.map(([name, dashboard]) => [name, dashboard.Properties.DashboardName])).toEqual([
      ['Dashboard', 'pam-session-responder-dev-us-east-1'],
    ]);
  });

  it('has a body that is valid JSON once the region, the queue names and the alarm ARNs are substituted', () => {
    expect(Array.isArray(body.widgets)).toBe(true);
    for (const widget of body.widgets.filter(({ type }) => type === 'metric'))
      expect(widget.properties.region, widget.properties.title).toBe(REGION);
  });

  it('names only metrics the code emits, under the namespace and service the functions are given', () => {
    const [environment, ...others] = functionEnvironments();
    for (const other of others) expect(other).toMatchObject({ POWERTOOLS_METRICS_NAMESPACE: 'PamSessionResponder' });
    const namespace = environment.POWERTOOLS_METRICS_NAMESPACE;
    const service = environment.POWERTOOLS_SERVICE_NAME;
    // What lib/ emits with the service as its only dimension, and TimeToCut, also by trigger.
    const counts = new Set<string>([
      ...OUTCOME_KINDS,
      WRITE_BACK_FAILED,
      TERMINATION_UNCONFIRMED,
      ...Object.values(INVENTORY_METRICS),
    ]);
    const queueNames = Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::SQS::Queue')
      .map(([logicalId]) => placeholder(`${logicalId}.QueueName`, {}, template.Resources));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const where = `${row.namespace} ${row.name} ${JSON.stringify(row.dimensions)}`;
      if (row.namespace === 'AWS/SQS') {
        expect(row.name, where).toBe('ApproximateNumberOfMessagesVisible');
        expect(Object.keys(row.dimensions), where).toEqual(['QueueName']);
        expect(queueNames, where).toContain(row.dimensions.QueueName);
        continue;
      }
      if (row.namespace === 'AWS/Lambda') {
        expect(['Errors', 'Throttles'], where).toContain(row.name);
        expect(Object.keys(row.dimensions), where).toEqual(['FunctionName']);
        const logicalId = row.dimensions.FunctionName?.replace(/-ref$/, '') ?? '';
        expect(template.Resources[logicalId]?.Type, where).toBe('AWS::Lambda::Function');
        continue;
      }
      if (row.namespace === 'AWS/ApiGateway') {
        expect([row.name, row.dimensions], where).toEqual(['5xx', { ApiId: 'HttpApi-ref' }]);
        continue;
      }
      if (row.namespace === 'AWS/Events') {
        expect(row.name, where).toBe('FailedInvocations');
        expect(ruleNames(), where).toContain(row.dimensions.RuleName);
        continue;
      }
      expect(row.namespace, where).toBe(namespace);
      expect(row.dimensions.service, where).toBe(service);
      if (row.name === ERRORS_METRIC && row.namespace !== 'AWS/Lambda') {
        expect(Object.keys(row.dimensions).sort(), where).toEqual(['service', CODE_DIMENSION].sort());
        expect([...ERROR_CODES], where).toContain(row.dimensions[CODE_DIMENSION]);
      } else if (row.name === TIME_TO_CUT) {
        expect(Object.keys(row.dimensions).sort(), where).toEqual(['service', TRIGGER_DIMENSION].sort());
        expect(TRIGGER_KINDS, where).toContain(row.dimensions[TRIGGER_DIMENSION]);
      } else {
        expect(Object.keys(row.dimensions), where).toEqual(['service']);
        expect([...counts], where).toContain(row.name);
      }
    }
  });

  it('shows every outcome and failed write-back, TimeToCut p50/p95/max per trigger, the index, the export and both queues', () => {
    const shown = (name: string, dimensions: Record<string, string> = {}, stat?: string) =>
      rows.some(
        (row) =>
          row.name === name &&
          Object.entries(dimensions).every(([key, value]) => row.dimensions[key] === value) &&
          (stat === undefined || row.stat === stat),
      );
    for (const name of [...OUTCOME_KINDS, WRITE_BACK_FAILED, TERMINATION_UNCONFIRMED])
      expect(shown(name, {}, 'Sum'), name).toBe(true);
    for (const trigger of TRIGGER_KINDS)
      for (const stat of ['p50', 'p95', 'Maximum'])
        expect(shown(TIME_TO_CUT, { [TRIGGER_DIMENSION]: trigger }, stat), `${trigger} ${stat}`).toBe(true);
    const { indexAge, indexListDuration, exportDuration, exportBytes } = INVENTORY_METRICS;
    for (const name of [indexAge, indexListDuration, exportDuration, exportBytes]) expect(shown(name), name).toBe(true);
    for (const queue of ['RulesDeadLetterQueue', 'DropFailuresQueue'])
      expect(shown('ApproximateNumberOfMessagesVisible', { QueueName: `stack-${queue}-ABC123` }), queue).toBe(true);
  });

  it("shows each function's errors and throttles, the HTTP API's 5xx, each rule's FailedInvocations and the alarmed error codes", () => {
    const functions = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    for (const [logicalId] of functions)
      for (const name of ['Errors', 'Throttles'])
        expect(rows.some((row) => row.name === name && row.dimensions.FunctionName === `${logicalId}-ref`)).toBe(true);
    expect(rows.some((row) => row.namespace === 'AWS/ApiGateway' && row.name === '5xx')).toBe(true);
    const failedRules = rows.filter((row) => row.name === 'FailedInvocations').map((row) => row.dimensions.RuleName);
    expect(failedRules.sort()).toEqual(ruleNames().sort());
    for (const code of ['pam_unauthorized', 'configuration_error', 'secrets_unavailable'])
      expect(SHOWN_CODES).toContain(code);
    const shownCodes = rows
      .filter((row) => row.name === ERRORS_METRIC && row.namespace !== 'AWS/Lambda')
      .map((row) => row.dimensions[CODE_DIMENSION]);
    expect(shownCodes).toEqual(SHOWN_CODES);
  });

  it('marks on the index graph the age past which terminations stop trusting the index (INDEX_MAX_AGE_SECONDS)', () => {
    const indexWidget = body.widgets.find((widget) =>
      metricRows(widget).some((row) => row.name === INVENTORY_METRICS.indexAge),
    );
    const maxAgeSeconds = Number(
      functionEnvironments().find((env) => env.INDEX_MAX_AGE_SECONDS)?.INDEX_MAX_AGE_SECONDS,
    );
    expect(indexWidget?.properties.annotations.horizontal).toEqual([
      expect.objectContaining({ value: maxAgeSeconds * 1000 }),
    ]);
  });

  it('lists in its alarm widget every alarm of the stack, and nothing else', () => {
    const alarmWidgets = body.widgets.filter((widget) => widget.type === 'alarm');
    expect(alarmWidgets).toHaveLength(1);
    const listed: string[] = alarmWidgets[0]?.properties.alarms;
    const alarms = Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
      .map(([logicalId]) => placeholder(`${logicalId}.Arn`, {}, template.Resources));
    expect(alarms.length).toBeGreaterThan(0);
    expect([...listed].sort()).toEqual([...alarms].sort());
  });

  it("stays within CloudWatch's documented limits, and its template within CloudFormation's size", () => {
    expect(body.widgets.length).toBeLessThanOrEqual(500);
    expect(rows.length).toBeLessThanOrEqual(2_500);
    for (const widget of body.widgets) {
      const where = widget.properties.title ?? widget.type;
      expect(widget.x, where).toBeGreaterThanOrEqual(0);
      expect(widget.x + widget.width, where).toBeLessThanOrEqual(24);
      expect(widget.width, where).toBeGreaterThanOrEqual(1);
      expect(widget.height, where).toBeGreaterThanOrEqual(1);
      expect(widget.height, where).toBeLessThanOrEqual(1_000);
      if (widget.type === 'metric') expect(metricRows(widget).length, where).toBeLessThanOrEqual(500);
      if (widget.type === 'alarm') expect(widget.properties.alarms.length, where).toBeLessThanOrEqual(100);
    }
    // No two widgets on the same cells.
    const cells = body.widgets.flatMap((widget) =>
      Array.from(
        { length: widget.width * widget.height },
        (_, i) => `${widget.x + (i % widget.width)},${widget.y + Math.floor(i / widget.width)}`,
      ),
    );
    expect(new Set(cells).size).toBe(cells.length);
    expect(templateBytes).toBeLessThan(TEMPLATE_BYTES_LIMIT);
  });
});
