/**
 * The rule patterns as serverless.yml deploys them: each infra/event-patterns/*.json by its name, with its
 * ${param:…} filled in. osls loads this file (`${file(infra/event-patterns/patterns.cjs):<name>}`); rules.ts
 * fills the same files with the same function for the tests and `npm run event`, so they match what is deployed.
 *
 * A value that is a whole `${param:x}` becomes the param's value. Lists are comma-separated strings (so that
 * --param can set them): an operator whose value is a list param becomes one operator per item, since
 * EventBridge's operators take one value each: `[{"prefix": "${param:x}"}]` with x = "siem.,soar." gives
 * `[{"prefix": "siem."}, {"prefix": "soar."}]`; an array item that is a whole list param becomes its items
 * (`["${param:x}"]`), a number given as text becomes the number.
 * (CommonJS because osls resolves `${file()}` only from .js/.cjs files it can require.)
 */
const { readdirSync, readFileSync } = require('node:fs');
const { basename, join } = require('node:path');

const PARAM = /^\$\{param:([A-Za-z0-9]+)\}$/;

function paramOf(value) {
  return typeof value === 'string' ? PARAM.exec(value)?.[1] : undefined;
}

function isPlainObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function paramValue(name, params) {
  if (!(name in params)) throw new Error(`serverless.yml has no param "${name}"`);
  return params[name];
}

/** A param as list items: a comma-separated string split and trimmed, a number as itself. */
function listItems(value) {
  if (Array.isArray(value)) return value;
  if (typeof value === 'number') return [value];
  const text = String(value).trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return [Number(text)];
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** The one-key operator `{op: "${param:x}"}`, as one operator per item of x. */
function expandOperator(item, params) {
  if (!isPlainObject(item)) return undefined;
  const entries = Object.entries(item);
  const [operator, value] = entries[0] ?? [];
  const name = entries.length === 1 ? paramOf(value) : undefined;
  if (name === undefined) return undefined;
  const values = listItems(paramValue(name, params));
  // EventBridge refuses an empty list, and a rule that can match nothing is a mistake worth failing on.
  if (values.length === 0) throw new Error(`param "${name}" is an empty list: "${operator}" needs at least one value`);
  return values.map((each) => ({ [operator]: each }));
}

function fillParams(node, params) {
  const name = paramOf(node);
  if (name !== undefined) return paramValue(name, params);
  if (Array.isArray(node))
    return node.flatMap((item) => {
      const name = paramOf(item);
      if (name !== undefined) return listItems(paramValue(name, params));
      return expandOperator(item, params) ?? [fillParams(item, params)];
    });
  if (isPlainObject(node))
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, fillParams(value, params)]));
  return node;
}

function paramNames(node, names = new Set()) {
  const name = paramOf(node);
  if (name !== undefined) names.add(name);
  else if (Array.isArray(node)) for (const item of node) paramNames(item, names);
  else if (isPlainObject(node)) for (const value of Object.values(node)) paramNames(value, names);
  return names;
}

/** Every pattern file, parsed, by its name without .json, in name order. */
function readPatterns() {
  return Object.fromEntries(
    readdirSync(__dirname)
      .filter((file) => file.endsWith('.json'))
      .sort()
      .map((file) => [basename(file, '.json'), JSON.parse(readFileSync(join(__dirname, file), 'utf8'))]),
  );
}

/** osls calls this with its variable resolver: every pattern, filled with the stage's params. */
async function resolvePatterns({ resolveVariable }) {
  const patterns = readPatterns();
  const params = {};
  for (const name of paramNames(patterns)) params[name] = await resolveVariable(`param:${name}`);
  return fillParams(patterns, params);
}

module.exports = Object.assign(resolvePatterns, { fillParams, readPatterns });
