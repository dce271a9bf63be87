import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../../lib/core/errors.js';
import { buildFunctions } from '../build/bundles.js';
import { generateSessions } from '../pam-simulator/seed-sessions.js';
import { startLocalPam } from './local-pam.js';
import { LOCAL_PORTS } from './local-ports.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const {
  PORT: HTTP_PORT,
  LAMBDA_PORT,
  PAM_SIMULATOR_PORT: SIMULATOR_PORT,
  EVENTBRIDGE_PORT,
  SECURITYHUB_PORT,
  SCHEDULER_PORT,
  S3_PORT,
} = LOCAL_PORTS;
/** How long Ctrl+C may take; serverless-offline gets OFFLINE_GRACE_MS of it to stop by itself. */
const SHUTDOWN_DEADLINE_MS = 1_500;
const OFFLINE_GRACE_MS = 800;
/** PAM_SIMULATOR_SESSIONS=1000000 npm start: a large generated list instead of the realistic seed. */
const GENERATED_SESSIONS = process.env.PAM_SIMULATOR_SESSIONS ? Number(process.env.PAM_SIMULATOR_SESSIONS) : undefined;

/** Refuses to start over another stack: requests would reach the old one, with its old state. */
async function assertPortsFree(ports: Record<string, number>): Promise<void> {
  for (const port of Object.values(ports)) {
    await new Promise<void>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', () =>
        reject(
          new Error(
            `Port ${port} is in use (is another npm start still running?); stop it, or set ${Object.keys(ports).join(', ')}`,
          ),
        ),
      );
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
    });
  }
}

async function waitForHttp(url: string, child: ReturnType<typeof spawn>, timeoutMs = 60_000): Promise<void> {
  const giveUp = Date.now() + timeoutMs;
  while (Date.now() < giveUp) {
    if (child.exitCode !== null) throw new Error(`serverless offline exited with code ${child.exitCode}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`Nothing answered on ${url} within ${timeoutMs / 1000} s`);
}

/**
 * The whole product on one machine: the unchanged bundles behind serverless-offline's HTTP API,
 * reading their secret from a loopback Secrets Manager stand-in, talking to the PAM Core simulator.
 */
async function main(): Promise<void> {
  await assertPortsFree(LOCAL_PORTS);
  if (!process.argv.includes('--no-build')) {
    console.log('Building the functions…');
    await buildFunctions();
  }
  const local = await startLocalPam({
    port: SIMULATOR_PORT,
    eventBridgePort: EVENTBRIDGE_PORT,
    securityHubPort: SECURITYHUB_PORT,
    onFindingUpdate: (update) =>
      console.log(`finding  ${update.Workflow?.Status ?? 'note'}  ${update.Note?.Text ?? ''}`),
    s3Port: S3_PORT,
    ...(GENERATED_SESSIONS === undefined ? {} : { sessions: generateSessions(GENERATED_SESSIONS) }),
    onAuditEvent: (event) => {
      const detail = event.detail as {
        session_id?: string;
        outcome?: string;
        count?: number;
        credential?: { id: string | null; username: string | null };
      };
      const credential = detail.credential && `credential ${detail.credential.id ?? detail.credential.username}`;
      const what = detail.session_id ?? credential ?? `${detail.count} sessions`;
      console.log(`audit  ${event['detail-type']}  ${what}  ${detail.outcome}`);
    },
    onAlarm: (notice) => console.log(`ALARM  ${notice.subject}`),
    // A quarantine's end: the schedule invokes the function its ARN names, through serverless-offline.
    schedulerPort: SCHEDULER_PORT,
    schedulerTickMs: 5_000,
    invokeSchedule: async (targetArn, input) => {
      const name = targetArn.split(':').pop() ?? '';
      console.log(`schedule  invokes ${name}`);
      const response = await fetch(`http://localhost:${LAMBDA_PORT}/2015-03-31/functions/${name}/invocations`, {
        method: 'POST',
        body: JSON.stringify(input),
      });
      return response.json();
    },
  });

  const offline = spawn(
    process.execPath,
    [
      fileURLToPath(new URL('../../node_modules/osls/bin/serverless.js', import.meta.url)),
      'offline',
      'start',
      '--stage',
      'local',
      '--httpPort',
      String(HTTP_PORT),
      '--lambdaPort',
      String(LAMBDA_PORT),
      '--param',
      `pamSecretName=${local.secretId}`,
      // One update a run: a run's 30 s pause before its second would hold the first index and Ctrl+C back.
      '--param',
      'indexUpdatesPerMinute=1',
      // serverless-offline cannot check IAM (SigV4) authorization; in AWS the routes require it.
      '--noAuth',
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        ...local.env,
        SLS_TELEMETRY_DISABLED: '1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );

  // Ctrl+C (or SIGTERM) stops everything within SHUTDOWN_DEADLINE_MS at any size: serverless-offline is killed if
  // it lingers, the servers drop their sockets, and whatever is still open (a million-session list in flight,
  // keep-alive sockets s3rver waits on) does not hold the process. A second Ctrl+C exits at once.
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) process.exit(code);
    stopping = true;
    setTimeout(() => process.exit(code), SHUTDOWN_DEADLINE_MS).unref();
    const offlineExited =
      offline.exitCode !== null || offline.signalCode !== null
        ? Promise.resolve()
        : new Promise((resolve) => offline.once('exit', resolve));
    offline.kill('SIGTERM');
    setTimeout(() => offline.kill('SIGKILL'), OFFLINE_GRACE_MS).unref();
    await Promise.all([offlineExited, local.close()]);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  offline.on('exit', (code) => {
    if (!stopping) void stop(code ?? 1);
  });

  const base = `http://localhost:${HTTP_PORT}`;
  // One session of the live list: the probe goes through the function, its secret and the simulator, and reads
  // no further than the list's first block, whatever its size.
  await waitForHttp(`${base}/sessions?limit=1`, offline);
  // The schedule runs the indexer every minute; the first index is written now, so terminations use it at once.
  const indexed = await fetch(
    `http://localhost:${LAMBDA_PORT}/2015-03-31/functions/pam-session-responder-local-index-sessions/invocations`,
    { method: 'POST', body: '{}' },
  ).then((response) => response.json() as Promise<{ active?: number; history_size?: number }>);
  const example = local.pam.sessions.find((session) => session.end === null)?.session_id ?? '<session_id>';
  console.log(`
pam-session-responder is running locally (Ctrl+C stops it)
  HTTP API           ${base}
  PAM Core simulator ${local.pam.url}   (${local.pam.sessions.length} seeded sessions)
  Secrets Manager    ${local.secrets.url}   (secret "${local.secretId}")
  EventBridge        ${local.eventBridge.url}   (audit events: GET ${local.eventBridge.url}/events)
  Security Hub       ${local.securityHub.url}   (the findings' write-back: GET ${local.securityHub.url}/updates)
  S3 (s3rver)        ${local.s3.url}   (bucket "${local.s3.bucket}")
  Scheduler          ${local.scheduler.url}   (reactivation schedules: GET ${local.scheduler.url}/schedules)
  Lambda invoke API  http://localhost:${LAMBDA_PORT}
  API document       ${fileURLToPath(new URL('../../docs/openapi.yaml', import.meta.url))}   (OpenAPI 3.1)
  Active-session index  s3://${local.s3.bucket}/index/active-sessions.json   (${indexed.active} active of ${indexed.history_size}; updated every minute)
  (locally the routes take no IAM signature; deployed, they require one)

Try:
  curl -s '${base}/sessions?active=true'
  curl -s '${base}/sessions?protocol=ssh&active=true'
  curl -s -X DELETE ${base}/sessions/${example}
  curl -s '${base}/sessions?active=false'
  curl -s -X POST http://localhost:${LAMBDA_PORT}/2015-03-31/functions/pam-session-responder-local-drop/invocations -d '{"session_id":"${example}"}'
  curl -s -X POST ${base}/sessions/terminate -d '{"match":{"protocol":"ssh"},"reason":"preview","dry_run":true}'
  npm run event -- test/fixtures/events/guardduty-cryptocurrency-instance.json
  npm run event -- test/fixtures/events/termination-request-contain.json   (the SOAR follows up: rotate and quarantine the credential)
  npm run export
  npm run index
  curl -s '${base}/sessions?source=snapshot&active=true'
`);
}

main().catch((error: unknown) => {
  console.error(errorMessage(error));
  process.exit(1);
});
