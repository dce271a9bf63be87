import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';
import { startLocalPam } from '../infra/local/local-pam.js';
import { generateSessions } from '../infra/pam-simulator/seed-sessions.js';
import { createOAuth1Signer } from '../lib/oauth1.js';
import { lambdaContext } from '../test/support/lambda.js';
import { buildFunctions, type BundleInfo } from './build.js';

// Figures and ratios measured in one run on this machine; no pass/fail here, the README records them.
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 21);
const WARM_DROPS = Number(process.env.BENCH_WARM_DROPS ?? 2_000);
const WARM_UP = 200;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
};
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

function timeProcess(args: string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${result.status}`);
  return performance.now() - started;
}

/** Median wall time to start node and import each bundle, interleaved with a bare `node -e 0`. */
function coldStarts(bundles: BundleInfo[]) {
  const bare: number[] = [];
  const perBundle = new Map<string, number[]>(bundles.map((bundle) => [bundle.name, []]));
  for (let run = 0; run < COLD_RUNS; run += 1) {
    bare.push(timeProcess(['-e', '0']));
    for (const bundle of bundles) {
      perBundle.get(bundle.name)?.push(timeProcess(['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(bundle.file).href)})`]));
    }
  }
  return { bare: median(bare), perBundle: new Map([...perBundle].map(([name, times]) => [name, median(times)])) };
}

/** Warm drop through the built bundle's handler vs. a bare signed undici DELETE, against one simulator. */
async function warmDrop(dropBundle: BundleInfo) {
  const local = await startLocalPam({ sessions: generateSessions(2 * (WARM_DROPS + WARM_UP), { activeShare: 1 }) });
  Object.assign(process.env, local.env, { POWERTOOLS_LOG_LEVEL: 'WARN', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
  const { handler } = (await import(pathToFileURL(dropBundle.file).href)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
  const ids = local.pam.sessions.map((session) => session.session_id);
  const sign = createOAuth1Signer(local.credentials);
  const agent = new Agent({ keepAliveTimeout: 30_000 });

  const bare = async (id: string) => {
    const url = `${local.pam.url}/iso/session/drop/${id}`;
    const response = await request(url, { method: 'DELETE', dispatcher: agent, headers: { authorization: sign({ method: 'DELETE', url }) } });
    await response.body.text();
    if (response.statusCode !== 200) throw new Error(`bare drop answered ${response.statusCode}`);
  };
  const viaHandler = async (id: string) => {
    const result = (await handler({ session_id: id }, lambdaContext())) as { status?: string };
    if (result.status !== 'terminated') throw new Error('handler did not terminate');
  };

  const timings = { bare: [] as number[], handler: [] as number[] };
  let next = 0;
  for (let i = 0; i < WARM_UP; i += 1) {
    await bare(ids[next++] ?? '');
    await viaHandler(ids[next++] ?? '');
  }
  for (let i = 0; i < WARM_DROPS; i += 1) {
    let started = performance.now();
    await bare(ids[next++] ?? '');
    timings.bare.push(performance.now() - started);
    started = performance.now();
    await viaHandler(ids[next++] ?? '');
    timings.handler.push(performance.now() - started);
  }
  await agent.close();
  await local.close();
  return timings;
}

const bundles = await buildFunctions();
console.log(`pam-session-responder bench on node ${process.version}, ${COLD_RUNS} cold starts and ${WARM_DROPS} warm drops\n`);
console.log('bundle sizes');
for (const bundle of bundles) console.log(`  ${bundle.name.padEnd(8)} ${kb(bundle.bytes).padStart(10)} raw  ${kb(bundle.gzipBytes).padStart(9)} gzip`);

const cold = coldStarts(bundles);
console.log(`\ncold start (median time to start node and import the bundle)\n  bare node -e 0  ${cold.bare.toFixed(1)} ms`);
for (const [name, ms] of cold.perBundle) console.log(`  ${name.padEnd(14)} ${ms.toFixed(1)} ms   ${(ms / cold.bare).toFixed(2)}x bare node`);

const dropBundle = bundles.find((bundle) => bundle.name === 'drop');
if (!dropBundle) throw new Error('no drop bundle');
const warm = await warmDrop(dropBundle);
const row = (label: string, values: number[]) =>
  `  ${label.padEnd(30)} p50 ${median(values).toFixed(3)} ms   p95 ${percentile(values, 0.95).toFixed(3)} ms`;
console.log('\nwarm drop against the simulator on loopback');
console.log(row('bare signed undici DELETE', warm.bare));
console.log(row('drop handler (bundle)', warm.handler));
console.log(`  ratio handler / bare (p50)     ${(median(warm.handler) / median(warm.bare)).toFixed(2)}x`);
