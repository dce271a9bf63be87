import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const depcruise = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const sandboxes: string[] = [];

afterAll(() => {
  for (const sandbox of sandboxes) rmSync(sandbox, { recursive: true, force: true });
});

/** Runs the project's rules over a small tree of modules, as `npm run lint` runs them over the real one. */
function cruise(files: Record<string, string>): { status: number | null; output: string } {
  const sandbox = mkdtempSync(join(tmpdir(), 'layers-'));
  sandboxes.push(sandbox);
  writeFileSync(join(sandbox, 'tsconfig.json'), readFileSync(join(root, 'tsconfig.json')));
  writeFileSync(join(sandbox, 'package.json'), '{"type":"module"}');
  for (const [file, source] of Object.entries(files)) {
    mkdirSync(dirname(join(sandbox, file)), { recursive: true });
    writeFileSync(join(sandbox, file), source);
  }
  const top = [...new Set(Object.keys(files).map((file) => file.split('/')[0] ?? ''))];
  const result = spawnSync(
    process.execPath,
    [depcruise, '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'err', ...top],
    {
      cwd: sandbox,
      encoding: 'utf8',
    },
  );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the layers (dependency-cruiser)', () => {
  it('accept imports that go down the layers', () => {
    const { status, output } = cruise({
      'lib/core/errors.ts': 'export const a = 1;\n',
      'lib/pam/pam-client.ts': "import { a } from '../core/errors.js';\nexport const b = a;\n",
      'lib/termination/terminate-sessions.ts': "import { b } from '../pam/pam-client.js';\nexport const c = b;\n",
      'functions/drop.ts': "import { c } from '../lib/termination/terminate-sessions.js';\nexport const handler = c;\n",
    });
    expect(output).toContain('no dependency violations');
    expect(status).toBe(0);
  });

  it.each([
    [
      'lib-core-imports-only-downward',
      {
        'lib/core/errors.ts': "import { c } from '../termination/terminate-sessions.js';\nexport const a = c;\n",
        'lib/termination/terminate-sessions.ts': 'export const c = 1;\n',
      },
    ],
    [
      'lib-pam-imports-only-downward',
      {
        'lib/pam/pam-client.ts': "import { c } from '../inventory/export.js';\nexport const a = c;\n",
        'lib/inventory/export.ts': 'export const c = 1;\n',
      },
    ],
    [
      'functions-import-only-lib',
      {
        'functions/drop.ts': "import { c } from '../infra/local/stack.js';\nexport const handler = c;\n",
        'infra/local/stack.ts': 'export const c = 1;\n',
      },
    ],
    [
      'lib-stays-in-lib',
      {
        'lib/core/errors.ts': "import { c } from '../../scripts/bench.js';\nexport const a = c;\n",
        'scripts/bench.ts': 'export const c = 1;\n',
      },
    ],
    [
      'tooling-does-not-import-tests',
      {
        'scripts/bench.ts': "import { c } from '../test/support/load.js';\nexport const a = c;\n",
        'test/support/load.ts': 'export const c = 1;\n',
      },
    ],
    [
      'infra-does-not-import-scripts',
      {
        'infra/local/start.ts': "import { c } from '../../scripts/build.js';\nexport const a = c;\n",
        'scripts/build.ts': 'export const c = 1;\n',
      },
    ],
    [
      'no-circular',
      {
        'lib/sessions/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
        'lib/sessions/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
      },
    ],
  ])('refuse a wrong import: %s', (rule, files) => {
    const { status, output } = cruise(files);
    expect(output).toContain(rule);
    expect(status).not.toBe(0);
  });
});

function sourceFiles(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => relative(root, join(root, folder, file)));
}

describe('settings', () => {
  it('are read from the environment in lib/core/settings.ts only', () => {
    const readers = [...sourceFiles('lib'), ...sourceFiles('functions')].filter((file) =>
      readFileSync(join(root, file), 'utf8').includes('process.env'),
    );
    expect(readers).toEqual(['lib/core/settings.ts']);
  });
});
