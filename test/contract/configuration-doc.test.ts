import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const SETTINGS_SOURCE = read('lib/core/settings.ts');
const DOC = read('docs/configuration.md');
const SERVERLESS = read('serverless.yml');

/**
 * Read by lib/core/settings.ts only for what issue 20 removes (the Parameters and Secrets Lambda Extension and
 * the internal extension for work after the response), so left out of docs/configuration.md, which describes the
 * SDK-only design. The last test fails once a name here is no longer read: delete it from this list then.
 */

/** The variables settings.ts reads: the first argument of each of its readers (functions taking `name: string`). */
function variablesRead(source: string): string[] {
  const readers = [
    ...source.matchAll(/(?:function (\w+)(?:<[^>]*>)?\(\s*name: string|const (\w+) = \(name: string\))/g),
  ].map(([, declared, arrow]) => declared ?? arrow);
  const calls = new RegExp(`\\b(?:${readers.join('|')})\\(\\s*'([A-Z][A-Z0-9_]*)'`, 'g');
  return [...new Set([...source.matchAll(calls)].map(([, name]) => name as string))];
}

/** The body of a `## heading` section, up to the next one. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no section "## ${heading}"`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

/** The backquoted names in the first cell of each row of the section's table (the header has none). */
function firstColumnNames(markdown: string): string[] {
  return [...markdown.matchAll(/^\| ([^|]+) \|/gm)].flatMap(([, cell = '']) =>
    [...cell.matchAll(/`([^`]+)`/g)].map(([, name]) => name as string),
  );
}

const without = (names: string[], others: string[]) => names.filter((name) => !others.includes(name));
const repeated = (names: string[]) => names.filter((name, index) => names.indexOf(name) !== index);

const variables = variablesRead(SETTINGS_SOURCE);
const settings = firstColumnNames(section(DOC, 'Settings'));
const platform = firstColumnNames(section(DOC, 'Read by the AWS SDK, Powertools and Lambda'));
const parameters = firstColumnNames(section(DOC, 'serverless.yml parameters'));

describe('docs/configuration.md against lib/core/settings.ts', () => {
  it('finds the variables settings.ts reads, through each of its readers', () => {
    // One name per kind of reader, so a reader the parse missed would show here.
    expect(variables).toEqual(
      expect.arrayContaining([
        'PAM_SECRET_ID', // required
        'PAM_SECRET_MAX_AGE_SECONDS', // duration
        'PAM_MAX_ATTEMPTS', // integer
        'EXPORT_WORKERS', // optionalInteger
        'GUARDDUTY_MIN_SEVERITY', // decimal
        'DRY_RUN', // boolean
        'EXPORT_FORMAT', // choice
        'PROTECTED_USERS', // list
        'AUDIT_EVENT_BUS', // text
        'ALARM_TOPIC_ARN', // optionalText
        'INDEX_RECHECK_SECONDS',
      ]),
    );
    expect(variables).not.toContain('HIGH');
  });

  it('documents every variable settings.ts reads', () => {
    expect(without(variables, [...settings, ...platform])).toEqual([]);
  });

  it('documents each variable once', () => {
    expect(repeated([...settings, ...platform])).toEqual([]);
  });

  it('documents no setting settings.ts no longer reads', () => {
    expect(settings.length).toBeGreaterThan(20);
    expect(without(settings, variables)).toEqual([]);
  });

  it("keeps the libraries' table to the AWS SDK's, Lambda's and Powertools' own variables", () => {
    expect(platform.filter((name) => !/^(AWS|POWERTOOLS)_/.test(name))).toEqual([]);
  });
});

describe('docs/configuration.md against serverless.yml', () => {
  const block = /^params:\n {2}default:\n((?: {4}.*\n|\n)+)/m.exec(SERVERLESS)?.[1] ?? '';
  const declared = [...block.matchAll(/^ {4}(\w+):/gm)].map(([, name]) => name as string);

  it('documents every parameter of params.default once, and no other', () => {
    expect(declared.length).toBeGreaterThan(20);
    expect(repeated(parameters)).toEqual([]);
    expect([...parameters].sort()).toEqual([...declared].sort());
  });

  it('names, for each parameter that sets a variable of a function, the variable it sets', () => {
    const environment = [...SERVERLESS.matchAll(/^ {6}([A-Z][A-Z0-9_]*): .*\$\{param:(\w+)\}/gm)];
    expect(environment.length).toBeGreaterThan(10);
    const rows = section(DOC, 'serverless.yml parameters').split('\n');
    for (const [, variable, parameter] of environment) {
      const row = rows.find((line) => line.startsWith('| ') && line.split('|')[1]?.includes(`\`${parameter}\``));
      expect({ parameter, row }).toEqual({ parameter, row: expect.stringContaining(`\`${variable}\``) });
    }
  });
});
