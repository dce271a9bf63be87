import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { EventPattern } from './event-pattern.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const patternsDir = join(root, 'infra', 'event-patterns');

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

function substitute(
  node: unknown,
  params: Record<string, unknown>,
  intrinsics: Record<string, string> | undefined,
): unknown {
  if (typeof node === 'string') {
    const whole = /^\$\{param:([A-Za-z0-9]+)\}$/.exec(node);
    if (!whole) return node;
    const name = whole[1] ?? '';
    if (!(name in params)) throw new Error(`serverless.yml has no param "${name}"`);
    return params[name];
  }
  if (Array.isArray(node)) return node.map((item) => substitute(item, params, intrinsics));
  if (typeof node === 'object' && node !== null) {
    const getAtt = (node as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (intrinsics && getAtt) {
      const key = getAtt.join('.');
      const value = intrinsics[key];
      if (value === undefined) throw new Error(`no local value for Fn::GetAtt ${key}`);
      return value;
    }
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, substitute(value, params, intrinsics)]));
  }
  return node;
}

/**
 * The rule patterns exactly as serverless.yml deploys them: each JSON file under
 * infra/event-patterns with its ${param:…} filled in. With `intrinsics`, CloudFormation
 * references are replaced by local values; without, they stay as CloudFormation would receive them.
 */
export function loadRulePatterns(
  options: { stage?: string; intrinsics?: Record<string, string> | false } = {},
): RulePattern[] {
  const params = serverlessParams(options.stage);
  const intrinsics =
    options.intrinsics === false
      ? undefined
      : (options.intrinsics ?? { 'TerminatePamSessionsAction.ActionTargetArn': LOCAL_CUSTOM_ACTION_ARN });
  return readdirSync(patternsDir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({
      name: basename(file, '.json'),
      pattern: substitute(
        JSON.parse(readFileSync(join(patternsDir, file), 'utf8')),
        params,
        intrinsics,
      ) as EventPattern,
    }));
}
