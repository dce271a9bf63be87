import { addressMatches } from '../../lib/sessions/ip-address.js';

/**
 * EventBridge content filtering, for the operators this project's rules use: exact values,
 * prefix, suffix, wildcard, equals-ignore-case, numeric, exists, anything-but, cidr and $or. Used to tell
 * locally and in tests which rule an event would trigger; AWS's TestEventPattern needs an account.
 */
export type EventPattern = { [field: string]: unknown };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const NUMERIC_OPS: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function inCidr(value: unknown, cidr: string): boolean {
  return typeof value === 'string' && cidr.includes('/') && addressMatches(value, cidr);
}

/**
 * EventBridge's wildcard: `*` stands for any run of characters (none included), `\*` for a star and `\\` for a
 * backslash. EventBridge refuses a rule with two stars in a row or any other escape, so this throws on them.
 */
function wildcardRegExp(wildcard: string): RegExp {
  let source = '';
  for (let i = 0; i < wildcard.length; i++) {
    const char = wildcard[i] ?? '';
    if (char === '\\') {
      const next = wildcard[++i];
      if (next !== '*' && next !== '\\')
        throw new Error(`wildcard ${JSON.stringify(wildcard)}: only \\* and \\\\ escape`);
      source += `\\${next}`;
    } else if (char === '*') {
      if (wildcard[i + 1] === '*') throw new Error(`wildcard ${JSON.stringify(wildcard)}: consecutive stars`);
      source += '[\\s\\S]*';
    } else {
      source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

function matchesNumeric(value: unknown, conditions: unknown[]): boolean {
  if (typeof value !== 'number') return false;
  for (let i = 0; i < conditions.length; i += 2) {
    const op = NUMERIC_OPS[String(conditions[i])];
    const bound = conditions[i + 1];
    if (!op || typeof bound !== 'number' || !op(value, bound)) return false;
  }
  return true;
}

function matchesAnythingBut(value: unknown, excluded: unknown): boolean {
  if (isPlainObject(excluded)) {
    if (typeof excluded.prefix === 'string') return typeof value === 'string' && !value.startsWith(excluded.prefix);
    if (typeof excluded.suffix === 'string') return typeof value === 'string' && !value.endsWith(excluded.suffix);
    return false;
  }
  const values = Array.isArray(excluded) ? excluded : [excluded];
  return !values.some((candidate) => candidate === value);
}

/** One element of a pattern's value array against one (scalar) value of the event. */
function matchesCondition(value: Json, condition: unknown): boolean {
  if (!isPlainObject(condition)) return condition === value;
  if ('prefix' in condition)
    return typeof value === 'string' && typeof condition.prefix === 'string' && value.startsWith(condition.prefix);
  if ('suffix' in condition)
    return typeof value === 'string' && typeof condition.suffix === 'string' && value.endsWith(condition.suffix);
  if ('wildcard' in condition)
    return (
      typeof value === 'string' &&
      typeof condition.wildcard === 'string' &&
      wildcardRegExp(condition.wildcard).test(value)
    );
  if ('equals-ignore-case' in condition) {
    return (
      typeof value === 'string' &&
      typeof condition['equals-ignore-case'] === 'string' &&
      value.toLowerCase() === condition['equals-ignore-case'].toLowerCase()
    );
  }
  if ('numeric' in condition) return Array.isArray(condition.numeric) && matchesNumeric(value, condition.numeric);
  if ('anything-but' in condition) return matchesAnythingBut(value, condition['anything-but']);
  if ('cidr' in condition) return typeof condition.cidr === 'string' && inCidr(value, condition.cidr);
  return false;
}

/** `values`: every value the event has at the field (an array's elements, from every object at its level). */
function matchesField(present: boolean, values: Json[], conditions: unknown[]): boolean {
  const exists = conditions.find((condition) => isPlainObject(condition) && 'exists' in condition) as
    | { exists: unknown }
    | undefined;
  if (exists) {
    const wanted = exists.exists === true;
    // "exists" looks at leaves: an object or an empty array is not a match for true.
    const isLeaf = present && values.some((value) => !isPlainObject(value));
    if (wanted === isLeaf) return true;
  }
  if (!present) return false;
  // An array in the event matches when any of its elements does.
  return values.some((element) =>
    conditions.some(
      (condition) => !(isPlainObject(condition) && 'exists' in condition) && matchesCondition(element, condition),
    ),
  );
}

const elements = (values: Json[]): Json[] => values.flatMap((value) => (Array.isArray(value) ? value : [value]));

/**
 * `nodes`: the objects at this level. An array of objects in the event is matched field by field across all its
 * elements, as EventBridge does: each field of the pattern may be satisfied by a different element.
 */
function matchesLevel(pattern: EventPattern, nodes: Json[]): boolean {
  const objects = nodes.filter((node): node is { [key: string]: Json } => isPlainObject(node));
  for (const [key, expected] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(expected) || !expected.some((branch) => isPlainObject(branch) && matchesLevel(branch, nodes)))
        return false;
      continue;
    }
    const found = objects.filter((node) => Object.hasOwn(node, key)).map((node) => node[key] as Json);
    const present = found.length > 0;
    if (Array.isArray(expected)) {
      if (!matchesField(present, elements(found), expected)) return false;
    } else if (isPlainObject(expected)) {
      if (!present || !matchesLevel(expected, elements(found))) return false;
    } else {
      return false;
    }
  }
  return true;
}

export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
  return matchesLevel(pattern, [event as Json]);
}
