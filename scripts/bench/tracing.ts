import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { buildFunctions } from '../../infra/build/bundles.js';
import { bundlePath } from './processes.js';
import { median } from './statistics.js';

/**
 * npx tsx scripts/bench/tracing.ts: what the tracing param costs a cold start. Each function's bundle is loaded in a
 * fresh process with POWERTOOLS_TRACE_ENABLED=false and =true, alternately, RUNS times each, as Lambda's init would
 * (its handler module imported, top-level awaits included, in an environment that says it is Lambda); `node -e 0` is
 * the floor. Reported: medians of the import alone (measured inside the process) and of the whole process.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const FUNCTIONS = ['list', 'drop', 'export', 'index-sessions'];

/** The environment a Lambda function would see, with nothing it could reach: no credentials, no secret, no bucket. */
function lambdaEnvironment(name: string, traced: boolean): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: `pam-session-responder-bench-${name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    POWERTOOLS_SERVICE_NAME: 'pam-session-responder-bench',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_TRACE_ENABLED: String(traced),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

function coldStart(name: string, traced: boolean): { importMs: number; processMs: number } {
  const bundle = pathToFileURL(bundlePath(name)).href;
  const script = `const t=performance.now();await import(${JSON.stringify(bundle)});process.stdout.write(String(performance.now()-t));process.exit(0)`;
  const started = performance.now();
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: lambdaEnvironment(name, traced),
    encoding: 'utf8',
  });
  const processMs = performance.now() - started;
  if (run.status !== 0) throw new Error(`${name} (tracing ${traced}) failed: ${run.stderr}`);
  return { importMs: Number(run.stdout), processMs };
}

function floor(): number {
  const started = performance.now();
  // A clean environment, as the children get: `npx tsx` puts its loader in NODE_OPTIONS.
  spawnSync(process.execPath, ['-e', '0'], { env: { PATH: process.env.PATH } });
  return performance.now() - started;
}

await buildFunctions();
const floors: number[] = [];
console.log(`node ${process.version}, ${RUNS} runs each, medians (ms)`);
console.log('function        import off  import on  +import  process off  process on  +process');
for (const name of FUNCTIONS) {
  const runs: Record<'off' | 'on', Array<{ importMs: number; processMs: number }>> = { off: [], on: [] };
  for (let run = 0; run < RUNS; run += 1) {
    floors.push(floor());
    // Alternated, so that the machine's drift falls on both alike.
    runs.off.push(coldStart(name, false));
    runs.on.push(coldStart(name, true));
  }
  const of = (key: 'off' | 'on', field: 'importMs' | 'processMs') => median(runs[key].map((r) => r[field]));
  const cells = [
    of('off', 'importMs'),
    of('on', 'importMs'),
    of('on', 'importMs') - of('off', 'importMs'),
    of('off', 'processMs'),
    of('on', 'processMs'),
    of('on', 'processMs') - of('off', 'processMs'),
  ].map((value) => value.toFixed(1).padStart(10));
  console.log(`${name.padEnd(15)}${cells.join(' ')}`);
}
console.log(`floor (node -e 0): ${median(floors).toFixed(1)} ms`);
