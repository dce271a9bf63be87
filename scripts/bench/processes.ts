import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { now } from './clock.js';

/** The file of a function's bundle as `npm run build` writes it. */
export const bundlePath = (name: string) => fileURLToPath(new URL(`../../dist/${name}/index.mjs`, import.meta.url));

/** Runs a bench child script in a fresh process; its last line of output is JSON. */
export async function runScript<T>(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ spawnedAt: number; output: T }> {
  const spawnedAt = now();
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}`);
  return { spawnedAt, output: JSON.parse(output.trim().split('\n').pop() ?? '{}') as T };
}

/** Bundles a bench child script to plain JavaScript, as the functions are, so node runs it without tsx. */
export async function bundleScript(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    mainFields: ['module', 'main'],
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
}
