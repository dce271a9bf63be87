import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface BundleInfo {
  name: string;
  file: string;
  bytes: number;
  gzipBytes: number;
}

/** Every `functions/<name>.ts` is a Lambda handler bundled to `dist/<name>/index.mjs`. */
export function functionNames(): string[] {
  return readdirSync(join(root, 'functions'))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => basename(file, '.ts'))
    .sort();
}

export async function buildFunctions(): Promise<BundleInfo[]> {
  const bundles: BundleInfo[] = [];
  for (const name of functionNames()) {
    const file = join(root, 'dist', name, 'index.mjs');
    await build({
      entryPoints: [join(root, 'functions', `${name}.ts`)],
      outfile: file,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      legalComments: 'none',
      // Some bundled CommonJS packages call require() on Node built-ins, which ESM lacks.
      banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
      logLevel: 'warning',
    });
    const code = readFileSync(file);
    bundles.push({ name, file, bytes: code.length, gzipBytes: gzipSync(code).length });
  }
  return bundles;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const bundle of await buildFunctions()) {
    console.log(`${bundle.name.padEnd(8)} dist/${bundle.name}/index.mjs  ${kb(bundle.bytes).padStart(10)}  gzip ${kb(bundle.gzipBytes).padStart(9)}`);
  }
}
