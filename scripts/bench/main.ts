import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { type BundleInfo, buildFunctions } from '../../infra/build/bundles.js';
import type { LocalPam } from '../../infra/local/local-pam.js';
import { driveTerminations } from '../../infra/local/termination-load.js';
import { generateSessions, type SimulatedSession } from '../../infra/pam-simulator/seed-sessions.js';
import { criticalBench } from './critical.js';
import { bundlePath, bundleScript, runScript } from './processes.js';
import { scaleBench } from './scale.js';
import { startBenchStack, startLocalPamHere, startSimulatorProcess } from './stack.js';
import { median, ratio } from './statistics.js';

// Figures and ratios measured in one run on this machine; no pass/fail here, docs/bench.md records them.
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 21);
const EXPORT_SIZES = (process.env.BENCH_EXPORT_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const PARTS = new Set(
  process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['functions', 'critical', 'load', 'export', 'scale'],
);
const LOAD_REQUESTS = 1_000;
const LOAD_CONCURRENCY = 50;

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
      perBundle
        .get(bundle.name)
        ?.push(
          timeProcess([
            '--input-type=module',
            '-e',
            `await import(${JSON.stringify(pathToFileURL(bundle.file).href)})`,
          ]),
        );
    }
  }
  return { bare: median(bare), perBundle: new Map([...perBundle].map(([name, times]) => [name, median(times)])) };
}

/**
 * One local stack for every part that runs the drop bundle in this process: once loaded, the
 * bundle keeps its secret and its clients' endpoints for the life of the process, as in Lambda.
 */
let dropStack: Promise<LocalPam> | undefined;
async function dropStackServing(sessions: SimulatedSession[]): Promise<LocalPam> {
  dropStack ??= startLocalPamHere('WARN');
  const local = await dropStack;
  local.pam.sessions.splice(0, local.pam.sessions.length, ...sessions);
  local.pam.sessionsChanged();
  return local;
}

/** 1,000 SIEM termination requests through the drop bundle, 50 at a time, each listing 1,000 sessions. */
async function loadBench(dropBundle: BundleInfo) {
  const local = await dropStackServing(generateSessions(LOAD_REQUESTS, { activeShare: 1 }));
  const { handler } = (await import(pathToFileURL(dropBundle.file).href)) as {
    handler: (event: unknown, context: unknown) => Promise<unknown>;
  };
  const { seconds, outcomes } = await driveTerminations(
    handler,
    local.pam.sessions.map((session) => session.session_id),
    LOAD_CONCURRENCY,
  );
  const terminated = outcomes.filter((outcome) => outcome.outcome === 'terminated').length;
  return { seconds, terminated };
}

interface ChildResult {
  sessions: number;
  bytes?: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMB: number;
}

/** The export runs with the NODE_OPTIONS serverless.yml deploys it with. */
function deployedExportNodeOptions(): string {
  const config = parse(readFileSync('serverless.yml', 'utf8'), { logLevel: 'silent' }) as {
    functions: { export: { environment: { NODE_OPTIONS?: string } } };
  };
  return config.functions.export.environment.NODE_OPTIONS ?? '';
}

async function runChild(script: string, mode: string, env: Record<string, string>): Promise<ChildResult> {
  const nodeOptions = mode === 'export' ? { NODE_OPTIONS: deployedExportNodeOptions() } : {};
  // Lambda gives the export about one vCPU at 1,769 MB: BENCH_EXPORT_PIN=1 runs it on one core only.
  const pinned = mode === 'export' && process.env.BENCH_EXPORT_PIN === '1';
  const [command, args] = pinned
    ? ['taskset', ['-c', '0', process.execPath, script, mode]]
    : [process.execPath, [script, mode]];
  return (await runScript<ChildResult>(command, args, { ...env, ...nodeOptions })).output;
}

/** The export against `fetch` + `JSON.parse` of the whole list, each in a fresh process, alternating, on the same server. */
async function exportBench() {
  const childScript = 'dist/bench/export-child.mjs';
  await bundleScript('scripts/bench/export-child.ts', childScript);
  const stack = await startBenchStack({ bucket: 'bench-inventory' });
  const rows: string[] = [];
  try {
    for (const size of EXPORT_SIZES) {
      const simulator = await startSimulatorProcess(size, stack.credentials);
      try {
        const env = {
          ...stack.serve(simulator.url),
          POWERTOOLS_LOG_LEVEL: 'WARN',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          BENCH_PAM_URL: simulator.url,
          BENCH_EXPORT_BUNDLE: bundlePath('export'),
          BENCH_PAM_CREDENTIALS: JSON.stringify(stack.credentials),
        };
        // The first request renders the list in the simulator; keep that out of both measurements.
        await runChild(childScript, 'baseline', env);
        const runs = 3;
        const baseline: ChildResult[] = [];
        const exported: ChildResult[] = [];
        for (let run = 0; run < runs; run += 1) {
          baseline.push(await runChild(childScript, 'baseline', env));
          exported.push(await runChild(childScript, 'export', env));
        }
        const bytes = baseline[0]?.bytes ?? 0;
        const mbps = (results: ChildResult[]) => bytes / 1e6 / median(results.map((result) => result.seconds));
        const peak = (results: ChildResult[]) => Math.max(...results.map((result) => result.peakRssMB));
        if (exported.some((result) => result.sessions !== size))
          throw new Error('the export did not write every session');
        rows.push(
          `  ${String(size).padStart(9)}  ${(bytes / 1e6).toFixed(1).padStart(7)} MB` +
            `   export ${mbps(exported).toFixed(1).padStart(6)} MB/s ${Math.round(
              size / median(exported.map((r) => r.seconds)),
            )
              .toString()
              .padStart(8)} sessions/s  peak RSS ${peak(exported).toFixed(0).padStart(4)} MB` +
            `   fetch+JSON.parse ${mbps(baseline).toFixed(1).padStart(6)} MB/s  peak RSS ${peak(baseline).toFixed(0).padStart(5)} MB` +
            `   ratio ${ratio(mbps(exported), mbps(baseline))}` +
            `   CPU s export ${median(exported.map((r) => r.cpuSeconds)).toFixed(1)} / baseline ${median(baseline.map((r) => r.cpuSeconds)).toFixed(1)}`,
        );
      } finally {
        simulator.stop();
      }
    }
  } finally {
    await stack.close();
  }
  return rows;
}

const bundles = await buildFunctions();
console.log(`pam-session-responder bench on node ${process.version}\n`);
if (PARTS.has('functions')) {
  console.log('bundle sizes');
  for (const bundle of bundles)
    console.log(
      `  ${bundle.name.padEnd(8)} ${kb(bundle.bytes).padStart(10)} raw  ${kb(bundle.gzipBytes).padStart(9)} gzip`,
    );

  const cold = coldStarts(bundles);
  console.log(
    `\ncold start (median time to start node and import the bundle)\n  bare node -e 0  ${cold.bare.toFixed(1)} ms`,
  );
  for (const [name, ms] of cold.perBundle)
    console.log(`  ${name.padEnd(14)} ${ms.toFixed(1)} ms   ${ratio(ms, cold.bare)} bare node`);

  // Warm figures: the critical part, against a bare signed DELETE.
}

if (PARTS.has('load')) {
  const dropForLoad = bundles.find((bundle) => bundle.name === 'drop');
  if (!dropForLoad) throw new Error('no drop bundle');
  const { seconds, terminated } = await loadBench(dropForLoad);
  console.log(
    `\nload: ${LOAD_REQUESTS} termination requests, ${LOAD_CONCURRENCY} at a time, each listing ${LOAD_REQUESTS} sessions`,
  );
  console.log(
    `  ${terminated} terminated in ${seconds.toFixed(2)} s: ${(LOAD_REQUESTS / seconds).toFixed(0)} requests/s`,
  );
}

if (dropStack) await (await dropStack).close();

if (PARTS.has('export')) {
  console.log(
    `\ninventory export (${EXPORT_SIZES.join(', ')} sessions; medians; ratio = export MB/s / fetch+JSON.parse MB/s${process.env.BENCH_EXPORT_PIN === '1' ? '; the export pinned to one core (taskset -c 0)' : ''})`,
  );
  for (const row of await exportBench()) console.log(row);
}
if (PARTS.has('scale')) {
  console.log(
    '\ntime to cut and memory by size of history (about 500 open sessions; fresh process per function; time to cut = from invocation, or from spawn when cold, until the simulator receives the DELETE)',
  );
  for (const row of await scaleBench()) console.log(row);
}
if (PARTS.has('critical')) {
  console.log('\nthe critical path against the floor');
  for (const row of await criticalBench()) console.log(row);
}
