import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { movedPorts, portFree } from '../support/stack-ports.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** What the issue asks of Ctrl+C: the whole stack gone within 2 s, whatever it holds. */
const STOP_WITHIN_MS = 2_000;
/** A history large enough that its live list is still streaming when Ctrl+C comes (SHUTDOWN_TEST_SESSIONS=1000000 passes too). */
const SESSIONS = Number(process.env.SHUTDOWN_TEST_SESSIONS ?? 300_000);

let stack: ChildProcess | undefined;

afterAll(() => {
  // Only if the test failed to stop it.
  if (stack?.pid && stack.exitCode === null && stack.signalCode === null) process.kill(-stack.pid, 'SIGKILL');
});

describe('npm start, stopped with Ctrl+C', () => {
  it('exits within 2 s with a large list in flight, every port moved by its variable and freed', async () => {
    const ports = await movedPorts();
    const names = Object.keys(ports) as Array<keyof typeof ports>;
    let output = '';
    stack = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts', '--no-build'], {
      cwd: root,
      env: { ...process.env, ...ports, PAM_SIMULATOR_SESSIONS: String(SESSIONS) },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, as a terminal's: Ctrl+C signals the whole group.
      detached: true,
    });
    stack.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    stack.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const giveUp = Date.now() + 150_000;
    while (!output.includes('is running locally')) {
      if (stack.exitCode !== null || Date.now() > giveUp) throw new Error(`the local stack did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // Every port the stack listens on is the one its variable gave.
    expect(output).toContain(`HTTP API           http://localhost:${ports.PORT}`);
    expect(output).toContain(`http://localhost:${ports.LAMBDA_PORT}`);
    for (const name of names) expect(await portFree(Number(ports[name])), name).toBe(false);

    // The whole history, live, through the HTTP API: the simulator streams it while Ctrl+C comes.
    const listing = fetch(`http://localhost:${ports.PORT}/sessions?active=false&limit=1`).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const exited = new Promise<number>((resolve) => stack?.once('exit', () => resolve(Date.now())));
    const interrupted = Date.now();
    process.kill(-(stack.pid as number), 'SIGINT');
    const took = (await exited) - interrupted;
    await listing;
    expect(took).toBeLessThan(STOP_WITHIN_MS);
    for (const name of names) expect(await portFree(Number(ports[name])), name).toBe(true);
  }, 200_000);
});
