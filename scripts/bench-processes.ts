import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import { localAwsEnv } from '../infra/local/local-pam.js';
import type { SimulatedSession } from '../infra/pam-simulator/seed-sessions.js';

/** Epoch milliseconds with sub-millisecond precision, comparable across the bench's processes. */
export const now = () => performance.timeOrigin + performance.now();

export interface SimulatorProcess {
  url: string;
  /** When each DELETE arrived, by session id. */
  drops: Map<string, number>;
  /** Every request, in order of arrival. */
  requests: Array<{ endpoint: string; path: string; receivedAt: number }>;
  /** Opens these sessions in the simulator (ids above the others). */
  open(sessions: SimulatedSession[]): Promise<void>;
  stop(): void;
}

/** The PAM Core simulator in its own process (its memory and CPU not counted with what is measured). */
export async function startSimulatorProcess(
  sessions: number,
  credentials: object,
  active?: number,
): Promise<SimulatorProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/pam-simulator/main.ts'], {
    env: {
      ...process.env,
      PAM_SIMULATOR_SESSIONS: String(sessions),
      ...(active === undefined ? {} : { PAM_SIMULATOR_ACTIVE: String(active) }),
      PAM_SIMULATOR_CREDENTIALS: JSON.stringify(credentials),
    },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const drops = new Map<string, number>();
  const requests: SimulatorProcess['requests'] = [];
  child.on('message', (message: { endpoint?: string; path: string; receivedAt: number }) => {
    if (message.endpoint === undefined) return;
    requests.push({ endpoint: message.endpoint, path: message.path, receivedAt: message.receivedAt });
    if (message.endpoint === 'drop') drops.set(message.path.split('/').pop() ?? '', message.receivedAt);
  });
  const [url] = (await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), 'line')) as [string];
  const open = async (sessions: SimulatedSession[]) => {
    const opened = new Promise<void>((resolve) => {
      const listener = (message: { opened?: number }) => {
        if (message.opened === undefined) return;
        child.off('message', listener);
        resolve();
      };
      child.on('message', listener);
    });
    child.send({ open: sessions });
    await opened;
  };
  return { url, drops, requests, open, stop: () => child.kill('SIGTERM') };
}

/**
 * The functions' variables for a bench child against the stand-ins, quiet (errors only, no metrics),
 * and the same without the index, so the function has to read the live list.
 */
export function benchEnv(stack: Parameters<typeof localAwsEnv>[0]): {
  env: Record<string, string>;
  noIndex: Record<string, string>;
} {
  const env = {
    ...localAwsEnv(stack),
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  return { env, noIndex: { ...env, EXPORT_BUCKET: '' } };
}

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
