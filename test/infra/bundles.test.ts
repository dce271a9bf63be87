import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BundleInfo } from '../../infra/build/bundles.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let bundles: BundleInfo[];
let production: Set<string>;

interface NpmTree {
  dependencies?: Record<string, NpmTree>;
}

function names(tree: NpmTree, into = new Set<string>()): Set<string> {
  for (const [name, child] of Object.entries(tree.dependencies ?? {})) {
    into.add(name);
    names(child, into);
  }
  return into;
}

// test/support/build-once.ts built the bundles before any test ran.
beforeAll(() => {
  bundles = JSON.parse(readFileSync(new URL('../../dist/bundles.json', import.meta.url), 'utf8')) as BundleInfo[];
  const tree = JSON.parse(
    execFileSync('npm', ['ls', '--omit=dev', '--all', '--json'], { cwd: root, encoding: 'utf8' }),
  ) as NpmTree;
  production = names(tree);
});

describe('the bundles', () => {
  it('contain production dependencies only', () => {
    for (const bundle of bundles) {
      const development = bundle.packages.filter((name) => !production.has(name));
      expect({ bundle: bundle.name, development }).toEqual({ bundle: bundle.name, development: [] });
    }
  });

  it("keep the export's worker threads free of Powertools and the AWS SDK: they only decode, serialise and compress", () => {
    const exportBundle = bundles.find((bundle) => bundle.name === 'export');
    // The handler itself emits metrics, so the check below is not vacuous.
    expect(exportBundle?.packages).toContain('@aws-lambda-powertools/metrics');
    expect(exportBundle?.workers).toEqual({ 'block-encoder-worker': ['csv-stringify'] });
  });

  it('load node:http with require in what a cold start runs: its ES import loads Node 22 its own undici (~8 ms)', () => {
    for (const bundle of bundles) {
      expect(bundle.coldStart.length).toBeGreaterThan(0);
      // Static imports, named or bare, by either name; a dynamic import() runs only when called.
      const importers = bundle.coldStart.filter((file) =>
        /\b(?:from|import)\s*["'](?:node:)?http["']/.test(readFileSync(join(root, file), 'utf8')),
      );
      expect({ bundle: bundle.name, importers }).toEqual({ bundle: bundle.name, importers: [] });
    }
  });

  it('bundle the AWS SDK, and list does not load EventBridge', () => {
    const list = bundles.find((bundle) => bundle.name === 'list');
    expect(list?.packages).toContain('@aws-sdk/client-secrets-manager');
    expect(list?.packages).not.toContain('@aws-sdk/client-eventbridge');
  });
});
