import { fileURLToPath } from 'node:url';
import { startEventBridgeStandIn } from '../infra/local/eventbridge.js';
import { httpApiEvent } from '../infra/local/lambda-events.js';
import { pamSecretString, randomCredentials } from '../infra/local/local-pam.js';
import { startS3StandIn } from '../infra/local/s3.js';
import { startSecretsManagerStandIn } from '../infra/local/secrets-manager.js';
import { generateSessions } from '../infra/pam-simulator/seed-sessions.js';
import { createOAuth1Signer } from '../lib/pam/oauth1.js';
import { benchEnv, bundleScript, runScript, startSimulatorProcess } from './bench-processes.js';

/**
 * `npm run bench -- scale`: time to cut and memory against PAM histories of 1,000 to 1,000,000
 * sessions (about 1,000 of them open, as real tenants have), the simulator in its own process.
 * Each function runs in a fresh process, as in a Lambda container, so its peak RSS is its own.
 */
const SIZES = (process.env.BENCH_SCALE_SIZES ?? '1000,100000,1000000').split(',').map(Number);
const ACTIVE = 1_000;
const WARM_INDEXED = 20;
const WARM_LIVE = 3;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const bundle = (name: string) => fileURLToPath(new URL(`../dist/${name}/index.mjs`, import.meta.url));

interface ChildRun {
  importedAt: number;
  runs: Array<{
    startedAt: number;
    endedAt: number;
    result: { errorType?: string; errorMessage?: string; session_id?: string } | null;
  }>;
  cpuSeconds: number;
  peakRssMB: number;
  spawnedAt: number;
}

async function runFunction(
  script: string,
  name: string,
  events: unknown[],
  env: Record<string, string>,
): Promise<ChildRun> {
  const { spawnedAt, output: run } = await runScript<Omit<ChildRun, 'spawnedAt'>>(
    process.execPath,
    ['--enable-source-maps', script],
    { ...env, BENCH_BUNDLE: bundle(name), BENCH_EVENTS: JSON.stringify(events) },
  );
  for (const { result } of run.runs) {
    if (result?.errorType) throw new Error(`${name} failed: ${result.errorType}: ${result.errorMessage}`);
  }
  return { ...run, spawnedAt };
}

/** The first list renders the simulator's body; keep that out of every measurement. */
async function primeList(url: string, credentials: Parameters<typeof createOAuth1Signer>[0]): Promise<number> {
  const listUrl = `${url}/api/session/remotesessions`;
  const response = await fetch(listUrl, {
    headers: { authorization: createOAuth1Signer(credentials)({ method: 'GET', url: listUrl }) },
  });
  let bytes = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
  return bytes;
}

const ms = (value: number) =>
  `${value >= 1000 ? (value / 1000).toFixed(2) : value.toFixed(1)} ${value >= 1000 ? 's' : 'ms'}`;

export async function scaleBench(): Promise<string[]> {
  const script = 'dist/bench/bench-handler-child.mjs';
  await bundleScript('scripts/bench-handler-child.ts', script);
  const credentials = randomCredentials();
  const secrets = await startSecretsManagerStandIn();
  const eventBridge = await startEventBridgeStandIn();
  const s3 = await startS3StandIn({ bucket: 'bench-inventory' });
  const rows: string[] = [];
  const results: Array<{ size: number; warmIndexed: number; coldIndexed: number }> = [];
  try {
    for (const size of SIZES) {
      await s3.clear();
      const simulator = await startSimulatorProcess(size, credentials, ACTIVE);
      try {
        secrets.putSecret('bench/pam', pamSecretString(simulator.url, credentials));
        const { env, noIndex } = benchEnv({ secretId: 'bench/pam', secrets, eventBridge, s3 });
        const listBytes = await primeList(simulator.url, credentials);
        // Open sessions spread evenly through the history; take them from its middle onwards.
        const open = generateSessions(size, { activeCount: ACTIVE })
          .filter((session) => session.end === null)
          .map((session) => session.session_id);
        const targets = open.slice(Math.floor(open.length / 2));
        const take = (count: number) => targets.splice(0, count);
        const cutAfter = (run: ChildRun, index: number) => {
          const id = run.runs[index]?.result?.session_id ?? '';
          const arrived = simulator.drops.get(id);
          if (arrived === undefined) throw new Error(`no DELETE arrived for ${id}`);
          return arrived;
        };

        const indexer = await runFunction(script, 'index-sessions', [{}], env);
        const indexSeconds = (indexer.runs[0]?.endedAt ?? 0) - (indexer.runs[0]?.startedAt ?? 0);

        const [coldIndexedId] = take(1);
        const coldIndexed = await runFunction(script, 'drop', [{ session_id: coldIndexedId }], env);
        const warmIndexedIds = take(WARM_INDEXED + 1);
        const warmIndexed = await runFunction(
          script,
          'drop',
          warmIndexedIds.map((id) => ({ session_id: id })),
          env,
        );
        const warmIndexedCut = warmIndexed.runs
          .slice(1)
          .map((run, index) => cutAfter(warmIndexed, index + 1) - run.startedAt);

        const [coldLiveId] = take(1);
        const coldLive = await runFunction(script, 'drop', [{ session_id: coldLiveId }], noIndex);
        const warmLive = await runFunction(
          script,
          'drop',
          take(WARM_LIVE + 1).map((id) => ({ session_id: id })),
          noIndex,
        );
        const warmLiveCut = warmLive.runs.slice(1).map((run, index) => cutAfter(warmLive, index + 1) - run.startedAt);

        const activeEvent = httpApiEvent({
          method: 'GET',
          routeKey: 'GET /sessions',
          rawPath: '/sessions',
          queryStringParameters: { active: 'true' },
        });
        const listIndexed = await runFunction(script, 'list', [activeEvent], env);
        const listLive = await runFunction(script, 'list', [activeEvent], noIndex);
        const duration = (run: ChildRun) => (run.runs[0]?.endedAt ?? 0) - (run.runs[0]?.startedAt ?? 0);

        const figures = {
          size,
          coldIndexed: cutAfter(coldIndexed, 0) - coldIndexed.spawnedAt,
          warmIndexed: median(warmIndexedCut),
          coldLive: cutAfter(coldLive, 0) - coldLive.spawnedAt,
          warmLive: median(warmLiveCut),
          dropIndexedRss: Math.max(coldIndexed.peakRssMB, warmIndexed.peakRssMB),
          dropLiveRss: Math.max(coldLive.peakRssMB, warmLive.peakRssMB),
          liveCpuPerDrop: (warmLive.cpuSeconds - coldLive.cpuSeconds) / WARM_LIVE,
          listIndexed: duration(listIndexed),
          listIndexedRss: listIndexed.peakRssMB,
          listLive: duration(listLive),
          listLiveRss: listLive.peakRssMB,
          indexSeconds: indexSeconds / 1000,
          indexRss: indexer.peakRssMB,
          indexCpu: indexer.cpuSeconds,
          indexMBps: listBytes / 1e6 / (indexSeconds / 1000),
        };
        results.push(figures);
        rows.push(
          `  ${String(size).padStart(9)} sessions (${(listBytes / 1e6).toFixed(1)} MB)\n` +
            `    drop, indexed id     cold ${ms(figures.coldIndexed).padStart(9)}  warm p50 ${ms(figures.warmIndexed).padStart(9)}  peak RSS ${figures.dropIndexedRss.toFixed(0)} MB\n` +
            `    drop, live fallback  cold ${ms(figures.coldLive).padStart(9)}  warm p50 ${ms(figures.warmLive).padStart(9)}  peak RSS ${figures.dropLiveRss.toFixed(0)} MB  (~${figures.liveCpuPerDrop.toFixed(2)} CPU-s per warm drop)\n` +
            `    GET /sessions?active=true  index ${ms(figures.listIndexed).padStart(9)} (peak RSS ${figures.listIndexedRss.toFixed(0)} MB)   live ${ms(figures.listLive).padStart(9)} (peak RSS ${figures.listLiveRss.toFixed(0)} MB)\n` +
            `    index-sessions       ${ms(indexSeconds).padStart(9)}  ${figures.indexMBps.toFixed(1)} MB/s  ${figures.indexCpu.toFixed(2)} CPU-s  peak RSS ${figures.indexRss.toFixed(0)} MB`,
        );
      } finally {
        simulator.stop();
      }
    }
  } finally {
    await Promise.all([secrets.close(), eventBridge.close(), s3.close()]);
  }
  const smallest = results[0];
  const largest = results.at(-1);
  if (smallest && largest && largest !== smallest) {
    rows.push(
      `  ratios ${largest.size} / ${smallest.size}: indexed time to cut warm ${(largest.warmIndexed / smallest.warmIndexed).toFixed(2)}x (target <= 1.5), cold ${(largest.coldIndexed / smallest.coldIndexed).toFixed(2)}x (target <= 2)`,
    );
  }
  return rows;
}
