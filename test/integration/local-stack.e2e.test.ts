import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { movedPorts } from '../support/stack-ports.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

let stack: ChildProcess;
let output = '';
let base: string;
let lambdaBase: string;
let ports: Record<string, string>;

// What `npm start` runs, on free ports: the bundles behind serverless-offline, the simulator, the secret stand-in.
beforeAll(async () => {
  // Free ones, not the defaults another stack on this machine may hold.
  ports = await movedPorts();
  const { PORT: http, LAMBDA_PORT: lambda } = ports;
  base = `http://localhost:${http}`;
  lambdaBase = `http://localhost:${lambda}`;
  stack = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts', '--no-build'], {
    cwd: root,
    env: { ...process.env, ...ports },
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

/** aoliveira's session into 10.66.50.10, which the tests of npm start leave for the one of npm run event. */
const SPARED = '124244e39e20af3627603c99134daff67dbf75f5';

/** A session the stack's guardrails let it cut (the local stage protects break_glass), and not the spared one. */
const cuttable = (session: { session_id: string; user: string }) =>
  session.session_id !== SPARED && session.user !== 'break_glass';

describe('npm start', () => {
  it('prints the URLs and ready-to-paste curl lines', () => {
    expect(output).toContain(`HTTP API           ${base}`);
    expect(output).toMatch(/API document {7}\/.*\/docs\/openapi\.yaml {3}\(OpenAPI 3\.1\)/);
    expect(output).toMatch(/curl -s '.*\/sessions\?active=true'/);
    expect(output).toMatch(/curl -s -X DELETE .*\/sessions\/[0-9a-f]{40}/);
  });

  it('lists, terminates, and shows the termination in the next list', async () => {
    const before = (await (await fetch(`${base}/sessions?active=true`)).json()) as {
      sessions: Array<{ session_id: string; user: string }>;
      count: number;
    };
    expect(before.count).toBeGreaterThan(1);
    const target = before.sessions.find(cuttable)?.session_id ?? '';

    const dropped = await fetch(`${base}/sessions/${target}`, { method: 'DELETE' });
    expect(dropped.status).toBe(200);
    expect(await dropped.json()).toMatchObject({ session_id: target, status: 'terminated' });

    const after = (await (await fetch(`${base}/sessions?active=true`)).json()) as {
      sessions: Array<{ session_id: string; user: string }>;
      count: number;
    };
    expect(after.count).toBe(before.count - 1);
    expect(after.sessions.map((session) => session.session_id)).not.toContain(target);
  });

  it('answers a bad id with 400 JSON', async () => {
    const response = await fetch(`${base}/sessions/not%20valid`, { method: 'DELETE' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });

  it('takes a direct Lambda invocation of drop', async () => {
    const list = (await (await fetch(`${base}/sessions?active=true`)).json()) as {
      sessions: Array<{ session_id: string; user: string }>;
    };
    const target = list.sessions.find(cuttable)?.session_id ?? '';
    const response = await fetch(`${lambdaBase}/2015-03-31/functions/pam-session-responder-local-drop/invocations`, {
      method: 'POST',
      body: JSON.stringify({ session_id: target }),
    });
    expect(await response.json()).toMatchObject({ session_id: target, status: 'terminated' });
  });
});

describe('npm run event', () => {
  const sendEvent = async (fixture: string) => {
    const file = fixture.startsWith('/') ? fixture : `test/fixtures/events/${fixture}.json`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'infra/local/send-event.ts', file],
      {
        cwd: root,
        env: { ...process.env, ...ports },
      },
    );
    return stdout;
  };

  it('routes a SIEM request through the rule files into the running stack, and a repeat ends as already_ended', async () => {
    const target = SPARED;
    const request = JSON.parse(readFileSync(join(root, 'test/fixtures/events/termination-request-by-id.json'), 'utf8'));
    request.detail.session_ids = [target];
    const file = join(mkdtempSync(join(tmpdir(), 'pam-event-')), 'request.json');
    writeFileSync(file, JSON.stringify(request));

    const first = await sendEvent(file);
    expect(first).toContain(`Rules matching ${file}: termination-requested`);
    expect(first).toContain('drop ran in the running npm start stack');
    expect(first).toMatch(new RegExp(`PAM Session Terminated\\s+${target}\\s+terminated`));
    const second = await sendEvent(file);
    expect(second).toMatch(new RegExp(`PAM Session Terminated\\s+${target}\\s+already_ended`));
  });

  it('spares the protected account of the local stage', async () => {
    expect(await sendEvent('termination-request-protected')).toMatch(
      /PAM Session Termination Skipped\s+3fe00c10ea8e1416a5e41e9019ca43746eb4e5e1\s+skipped_protected/,
    );
  });

  it('prints the Security Hub update it sends for the custom action', async () => {
    const printed = await sendEvent('securityhub-custom-action');
    expect(printed).toContain('Security Hub BatchUpdateFindings sent:');
    expect(printed).toMatch(/"UpdatedBy": "pam-session-responder"/);
    expect(printed).toMatch(/"Text": "pam-session-responder: [^"]*\b1 terminated/);
    expect(printed).toMatch(/"Status": "NOTIFIED"/);
  });

  it('says when no rule matches and invokes nothing', async () => {
    expect(await sendEvent('guardduty-port-probe-low-severity')).toContain('No rule matches');
  });
});
