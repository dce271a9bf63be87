import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { EventPattern } from './event-pattern.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** patterns.cjs: what serverless.yml loads the pattern files through. */
const patterns = createRequire(import.meta.url)('./patterns.cjs') as {
  readPatterns(): Record<string, unknown>;
  fillParams(node: unknown, params: Record<string, unknown>): unknown;
};

/** The custom action's ARN as CloudFormation would give it, for matching locally. */
const LOCAL_CUSTOM_ACTION_ARN = 'arn:aws:securityhub:us-east-1:000000000000:action/custom/TerminatePamSession';

export interface RulePattern {
  /** The pattern file's name without .json, e.g. "guardduty-finding". */
  name: string;
  pattern: EventPattern;
}

/** serverless.yml's `params` for a stage: the defaults overlaid with the stage's own. */
function serverlessParams(stage = 'dev'): Record<string, unknown> {
  const config = parse(readFileSync(join(root, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
    params?: Record<string, Record<string, unknown>>;
  };
  return { ...config.params?.default, ...config.params?.[stage] };
}

/** CloudFormation references replaced by local values. */
function resolveIntrinsics(node: unknown, intrinsics: Record<string, string>): unknown {
  if (Array.isArray(node)) return node.map((item) => resolveIntrinsics(item, intrinsics));
  if (typeof node === 'object' && node !== null) {
    const getAtt = (node as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (getAtt) {
      const key = getAtt.join('.');
      const value = intrinsics[key];
      if (value === undefined) throw new Error(`no local value for Fn::GetAtt ${key}`);
      return value;
    }
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, resolveIntrinsics(value, intrinsics)]));
  }
  return node;
}

/**
 * The rule patterns exactly as serverless.yml deploys them: each JSON file under
 * infra/event-patterns with its ${param:…} filled in. With `intrinsics`, CloudFormation
 * references are replaced by local values; without, they stay as CloudFormation would receive them.
 * `params` overrides serverless.yml's, as a deployment's own would.
 */
export function loadRulePatterns(
  options: { stage?: string; intrinsics?: Record<string, string> | false; params?: Record<string, unknown> } = {},
): RulePattern[] {
  const params = { ...serverlessParams(options.stage), ...options.params };
  const filled = patterns.fillParams(patterns.readPatterns(), params) as Record<string, EventPattern>;
  const intrinsics =
    options.intrinsics === false
      ? undefined
      : (options.intrinsics ?? { 'TerminatePamSessionsAction.ActionTargetArn': LOCAL_CUSTOM_ACTION_ARN });
  return Object.entries(filled).map(([name, pattern]) => ({
    name,
    pattern: intrinsics ? (resolveIntrinsics(pattern, intrinsics) as EventPattern) : pattern,
  }));
}
