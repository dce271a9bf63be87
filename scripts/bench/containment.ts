import { pathToFileURL } from 'node:url';
import { lambdaContext, siemTerminationRequest } from '../../infra/local/lambda-events.js';
import { seedSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { bundlePath } from './processes.js';
import { startLocalPamHere } from './stack.js';
import { median } from './statistics.js';

/**
 * npx tsx scripts/bench/containment.ts: time to contain on the local stack. The built drop bundle (npm run build)
 * against the simulator and the stand-ins, each run a SIEM request stamped at its arrival asking to rotate and
 * quarantine the credential of one active session: from the arrival to PAM's answer to the last containment call
 * (contained_age_ms), and to drop's response. The first run is the container's first (cold); the median is of the
 * RUNS after it.
 */
const RUNS = Number(process.env.RUNS ?? 20);

interface DropReport {
  outcomes: Array<{ event_age_ms: number }>;
  containment?: { outcomes: Array<{ outcome: string; contained_age_ms: number }> };
}
type Handler = (event: unknown, context: unknown) => Promise<DropReport>;
const bundle = (name: string) => pathToFileURL(bundlePath(name)).href;

const local = await startLocalPamHere('SILENT');
const { handler: drop } = (await import(bundle('drop'))) as { handler: Handler };
const { handler: index } = (await import(bundle('index-sessions'))) as { handler: Handler };

const contained: number[] = [];
const responded: number[] = [];
for (let run = 0; run <= RUNS; run += 1) {
  // The seeded PAM Core again, its index written as the schedule would: the same session open each run.
  local.pam.sessions.splice(0, local.pam.sessions.length, ...seedSessions());
  local.pam.sessionsChanged();
  local.pam.credentialApi.reset();
  local.scheduler.schedules.clear();
  await local.s3.clear();
  await index({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, lambdaContext());
  const session = local.pam.sessions.find((s) => s.user === 'aoliveira' && s.credential === 'ec2-user');
  const event = siemTerminationRequest(`bench-${run}`, {
    session_id: session?.session_id,
    reason: 'bench',
    contain: ['rotate', 'deactivate'],
  });
  const arrival = Date.parse(event.time);
  const report = await drop(event, lambdaContext());
  const took = Date.now() - arrival;
  const outcomes = report.containment?.outcomes ?? [];
  if (outcomes.map((o) => o.outcome).join() !== 'rotated,quarantined')
    throw new Error(`run ${run} did not contain: ${JSON.stringify(outcomes)}`);
  const last = Math.max(...outcomes.map((o) => o.contained_age_ms));
  const cut = report.outcomes[0]?.event_age_ms;
  const [rotated, quarantined] = outcomes.map((o) => o.contained_age_ms);
  if (process.env.BENCH_VERBOSE)
    console.log(`run ${run}: cut ${cut}, rotated ${rotated}, quarantined ${quarantined}, responded ${took}`);
  if (run === 0) console.log(`first (cold container): contained ${last} ms after arrival, responded after ${took} ms`);
  else {
    contained.push(last);
    responded.push(took);
  }
}
console.log(
  `median of ${RUNS} (warm): credential contained ${median(contained)} ms after the request's arrival ` +
    `(min ${Math.min(...contained)}, max ${Math.max(...contained)}); drop responded after ${median(responded)} ms`,
);
await local.close();
process.exit(0);
