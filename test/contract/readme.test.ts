import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORTS } from '../../infra/local/local-ports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const DOCUMENTS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

const withoutCode = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, '');

function anchorsOf(path: string): string[] {
  const text = withoutCode(readFileSync(join(ROOT, path), 'utf8'));
  return [...text.matchAll(/^#{1,6} (.+)$/gm)].map(([, heading = '']) => anchor(heading));
}

describe('README.md, the front door', () => {
  it('stays within 250 lines: the rest lives in docs/', () => {
    expect(README.split('\n').length - (README.endsWith('\n') ? 1 : 0)).toBeLessThanOrEqual(250);
  });

  it('shows the two commands as they are typed', () => {
    expect(README).toContain('npm ci && npm start');
    expect(README).toContain('npm test ');
  });

  it('lists every port npm start listens on, with its variable and default, and no other', () => {
    const listed = [...README.matchAll(/^\| `([A-Z0-9_]*PORT)` \| (\d+) \|/gm)].map(([, name, port]) => [
      name,
      Number(port),
    ]);
    expect(Object.fromEntries(listed)).toEqual(DEFAULT_PORTS);
    expect(listed).toHaveLength(Object.keys(DEFAULT_PORTS).length);
  });
});

describe('links between the README and docs/', () => {
  const links = DOCUMENTS.flatMap((path) =>
    [...withoutCode(readFileSync(join(ROOT, path), 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)]
      .map(([, target = '']) => target)
      .filter((target) => !/^[a-z]+:/.test(target))
      .map((target) => ({ from: path, target })),
  );

  it('are there to check', () => {
    expect(links.filter(({ from }) => from === 'README.md').length).toBeGreaterThan(10);
  });

  it.each(links.map(({ from, target }) => [from, target]))(
    '%s → %s: the file and the heading exist',
    (from, target) => {
      const [file = '', fragment] = (target as string).split('#');
      const path = file === '' ? (from as string) : relative(ROOT, join(ROOT, dirname(from as string), file));
      expect(existsSync(join(ROOT, path))).toBe(true);
      if (fragment !== undefined) expect(anchorsOf(path)).toContain(fragment);
    },
  );
});
