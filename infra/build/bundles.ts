import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface BundleInfo {
  name: string;
  /** The handler's module. */
  file: string;
  /** What a cold start loads: the handler's module and the chunks it imports statically. */
  bytes: number;
  /** Those files, relative to the repository. */
  coldStart: string[];
  gzipBytes: number;
  /** Chunks loaded only by a dynamic import (the S3 client for list's snapshots, SDK credential providers). */
  onDemandBytes: number;
  /** The npm packages bundled in, by name. */
  packages: string[];
  /** For each worker thread's file: the npm packages it loads, statically or on demand. */
  workers: Record<string, string[]>;
}

/** Worker threads a function starts, bundled beside its handler under these names. */
const WORKERS: Record<string, Record<string, string>> = {
  export: { 'block-encoder-worker': 'lib/inventory/block-encoder-worker.ts' },
};

/** Every `functions/<name>.ts` is a Lambda handler bundled to `dist/<name>/index.mjs`. */
function functionNames(): string[] {
  return readdirSync(join(root, 'functions'))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => basename(file, '.ts'))
    .sort();
}

export async function buildFunctions(): Promise<BundleInfo[]> {
  const bundles: BundleInfo[] = [];
  for (const name of functionNames()) {
    const outdir = join(root, 'dist', name);
    rmSync(outdir, { recursive: true, force: true });
    const { metafile } = await build({
      metafile: true,
      absWorkingDir: root,
      entryPoints: {
        index: join(root, 'functions', `${name}.ts`),
        ...Object.fromEntries(Object.entries(WORKERS[name] ?? {}).map(([worker, file]) => [worker, join(root, file)])),
      },
      outdir,
      outExtension: { '.js': '.mjs' },
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      bundle: true,
      platform: 'node',
      mainFields: ['module', 'main'],
      format: 'esm',
      target: 'node20',
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      legalComments: 'none',
      // Some bundled CommonJS packages call require() on Node built-ins, which ESM lacks.
      banner: {
        js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
      logLevel: 'warning',
    });
    const file = join(outdir, 'index.mjs');
    const outputs = metafile.outputs;
    const entry = Object.keys(outputs).find((output) => output.endsWith(`dist/${name}/index.mjs`)) ?? '';
    const coldStart = new Set<string>();
    const visit = (output: string) => {
      if (coldStart.has(output)) return;
      coldStart.add(output);
      for (const imported of outputs[output]?.imports ?? [])
        if (imported.kind === 'import-statement' && outputs[imported.path]) visit(imported.path);
    };
    visit(entry);
    const code = Buffer.concat([...coldStart].map((output) => readFileSync(join(root, output))));
    const allCode = Object.keys(outputs)
      .filter((output) => output.endsWith('.mjs'))
      .reduce((sum, output) => sum + (outputs[output]?.bytes ?? 0), 0);
    const packageOf = (input: string) => {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input);
      return match?.[1] ? [match[1]] : [];
    };
    const packages = new Set(Object.keys(metafile.inputs).flatMap(packageOf));
    // What a worker thread loads: its file and every chunk reachable from it.
    const workers = Object.fromEntries(
      Object.keys(WORKERS[name] ?? {}).map((worker) => {
        const reached = new Set<string>();
        const reach = (output: string) => {
          if (reached.has(output) || !outputs[output]) return;
          reached.add(output);
          for (const imported of outputs[output]?.imports ?? []) reach(imported.path);
        };
        reach(Object.keys(outputs).find((output) => output.endsWith(`dist/${name}/${worker}.mjs`)) ?? '');
        const loaded = [...reached].flatMap((output) => Object.keys(outputs[output]?.inputs ?? {}).flatMap(packageOf));
        return [worker, [...new Set(loaded)].sort()];
      }),
    );
    bundles.push({
      name,
      file,
      bytes: code.length,
      coldStart: [...coldStart].sort(),
      gzipBytes: gzipSync(code).length,
      onDemandBytes: allCode - code.length,
      packages: [...packages].sort(),
      workers,
    });
  }
  // What each bundle holds, for the tests to check without building again.
  writeFileSync(join(root, 'dist', 'bundles.json'), `${JSON.stringify(bundles, null, 2)}\n`);
  return bundles;
}
