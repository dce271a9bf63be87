import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

let stack: ChildProcess;
let output = '';
let base: string;
let lambdaBase: string;

// What `npm start` runs, on free ports: the bundles behind serverless-offline, the simulator, the secret stand-in.
beforeAll(async () => {
  const [http, lambda, simulator] = [await freePort(), await freePort(), await freePort()];
  base = `http://localhost:${http}`;
  lambdaBase = `http://localhost:${lambda}`;
  stack = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts', '--no-build'], {
    cwd: root,
    env: { ...process.env, PORT: String(http), LAMBDA_PORT: String(lambda), PAM_SIMULATOR_PORT: String(simulator) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  stack.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  stack.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const giveUp = Date.now() + 90_000;
  while (!output.includes('is running locally')) {
    if (stack.exitCode !== null || Date.now() > giveUp) throw new Error(`the local stack did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}, 120_000);

afterAll(async () => {
  if (stack?.pid) process.kill(-stack.pid, 'SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 300));
});

describe('npm start', () => {
  it('prints the URLs and ready-to-paste curl lines', () => {
    expect(output).toContain(`HTTP API           ${base}`);
    expect(output).toMatch(/curl -s '.*\/sessions\?active=true'/);
    expect(output).toMatch(/curl -s -X DELETE .*\/sessions\/[0-9a-f]{40}/);
  });

  it('lists, terminates, and shows the termination in the next list', async () => {
    const before = (await (await fetch(`${base}/sessions?active=true`)).json()) as { sessions: Array<{ session_id: string }>; count: number };
    expect(before.count).toBeGreaterThan(1);
    const target = before.sessions[0]?.session_id ?? '';

    const dropped = await fetch(`${base}/sessions/${target}`, { method: 'DELETE' });
    expect(dropped.status).toBe(200);
    expect(await dropped.json()).toEqual({ session_id: target, status: 'terminated' });

    const after = (await (await fetch(`${base}/sessions?active=true`)).json()) as { sessions: Array<{ session_id: string }>; count: number };
    expect(after.count).toBe(before.count - 1);
    expect(after.sessions.map((session) => session.session_id)).not.toContain(target);
  });

  it('answers a bad id with 400 JSON', async () => {
    const response = await fetch(`${base}/sessions/not%20valid`, { method: 'DELETE' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });

  it('takes a direct Lambda invocation of drop', async () => {
    const list = (await (await fetch(`${base}/sessions?active=true`)).json()) as { sessions: Array<{ session_id: string }> };
    const target = list.sessions[0]?.session_id ?? '';
    const response = await fetch(`${lambdaBase}/2015-03-31/functions/pam-session-responder-local-drop/invocations`, {
      method: 'POST',
      body: JSON.stringify({ session_id: target }),
    });
    expect(await response.json()).toEqual({ session_id: target, status: 'terminated' });
  });
});
