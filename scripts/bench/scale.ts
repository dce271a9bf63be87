import { readFileSync } from 'node:fs';
import { httpApiEvent, siemTerminationRequest } from '../../infra/local/lambda-events.js';
import {
  generateSessions,
  pamTimestamp,
  type SimulatedSession,
  sessionHash,
} from '../../infra/pam-simulator/seed-sessions.js';
import { createOAuth1Signer } from '../../lib/pam/oauth1.js';
import { bundlePath, bundleScript, runScript } from './processes.js';
import { benchEnv, type SimulatorProcess, startBenchStack, startSimulatorProcess } from './stack.js';
import { median, ms, ratio } from './statistics.js';

/**
 * `npm run bench -- scale`: time to cut against PAM histories of 1,000 and 1,000,000 sessions with
 * about 500 open, the simulator in its own process, each function in a fresh process (as in a
 * Lambda container, so its peak RSS is its own). For each path: a session the index holds; one
 * opened after the index, asked for by session_id and matched by its origin address; a repeat of
 * a session just terminated. Each with the PAM requests it sent, by kind; then the indexer's full
 * list and its refreshes between full lists (the index's age under the schedule, lookups a minute).
 * It drives the built bundles as they are: rerun after `npm run build` to measure another wiring.
 */
const SIZES = (process.env.BENCH_SCALE_SIZES ?? '1000,1000000').split(',').map(Number);
const ACTIVE = 500;
/** Warm invocations per path, after the cold one. */
const WARM = Number(process.env.BENCH_SCALE_WARM ?? 3);
/** index-sessions runs once a minute (EventBridge's shortest rate) and updates the index this often within it. */
const SCHEDULE_MS = 60_000;
const UPDATES_PER_MINUTE = Number(
  /indexUpdatesPerMinute: (\d+)/.exec(readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8'))?.[1],
);

interface Run {
  startedAt: number;
  endedAt: number;
  result: { errorType?: string; errorMessage?: string; kind?: string; lookups?: number } | null;
}

interface ChildRun {
  runs: Run[];
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
    { ...env, BENCH_BUNDLE: bundlePath(name), BENCH_EVENTS: JSON.stringify(events) },
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

/** A session opened now, after every other: the next numeric id, an origin address of its own. */
function openedSession(id: number): SimulatedSession {
  return {
    id: String(id),
    user: 'bench-new',
    origin_ip: `198.18.${(id >> 8) & 255}.${id & 255}`,
    credential: 'root',
    device: '10.99.0.1:22',
    protocol: 'ssh',
    proxy: 'Terminal Proxy',
    session_id: sessionHash(`bench-opened-${id}`),
    start: pamTimestamp(new Date()),
    end: null,
    time: null,
    prevent_purge: 'No',
    request: null,
    ITSM: null,
  };
}

type Kinds = Record<string, number>;

interface LookupPieces {
  byId: Array<{ ms: number; lookups: number }>;
  toEnd: { ms: number; lookups: number; found: number };
  confirmed: Array<{ ms: number; active: boolean | undefined; via: string | undefined }>;
  peakRssMB: number;
}

/** PAM requests that arrived between two moments, by kind (list, drop, lookup). */
function requestsBetween(simulator: SimulatorProcess, from: number, to: number): Kinds {
  const kinds: Kinds = { list: 0, drop: 0, lookup: 0 };
  for (const request of simulator.requests) {
    if (request.receivedAt >= from && request.receivedAt <= to)
      kinds[request.endpoint] = (kinds[request.endpoint] ?? 0) + 1;
  }
  return kinds;
}

function averageKinds(all: Kinds[]): string {
  const names = ['list', 'drop', 'lookup'];
  return names
    .map((name) => {
      const mean = all.reduce((sum, kinds) => sum + (kinds[name] ?? 0), 0) / Math.max(1, all.length);
      return `${name} ${Number.isInteger(mean) ? mean : mean.toFixed(1)}`;
    })
    .join(' · ');
}

interface PathFigures {
  cold: number;
  warm: number;
  rss: number;
  coldRequests: string;
  warmRequests: string;
}

/** Time from invocation (for the cold one: from the process's spawn) to the DELETE's arrival, per target. */
function timesToCut(simulator: SimulatorProcess, run: ChildRun, targets: string[]): PathFigures {
  const arrival = (index: number) => {
    const at = simulator.drops.get(targets[index] ?? '');
    if (at === undefined) throw new Error(`no DELETE arrived for ${targets[index]}`);
    return at;
  };
  const requests = run.runs.map((invocation, index) =>
    requestsBetween(simulator, index === 0 ? run.spawnedAt : invocation.startedAt, invocation.endedAt),
  );
  return {
    cold: arrival(0) - run.spawnedAt,
    warm: median(run.runs.slice(1).map((invocation, index) => arrival(index + 1) - invocation.startedAt)),
    rss: run.peakRssMB,
    coldRequests: averageKinds(requests.slice(0, 1)),
    warmRequests: averageKinds(requests.slice(1)),
  };
}

const pathRow = (label: string, figures: PathFigures) =>
  `    ${label.padEnd(26)} cold ${ms(figures.cold).padStart(9)}  warm p50 ${ms(figures.warm).padStart(9)}  peak RSS ${figures.rss.toFixed(0).padStart(3)} MB  PAM per warm cut: ${figures.warmRequests} (cold: ${figures.coldRequests})`;

export async function scaleBench(): Promise<string[]> {
  const script = 'dist/bench/handler-child.mjs';
  await bundleScript('scripts/bench/handler-child.ts', script);
  const lookupScript = 'dist/bench/lookup-child.mjs';
  await bundleScript('scripts/bench/lookup-child.ts', lookupScript);
  const stack = await startBenchStack({ bucket: 'bench-inventory' });
  const { credentials } = stack;
  const rows: string[] = [];
  const results: Array<{ size: number; byId: PathFigures; byMatch: PathFigures; indexed: PathFigures }> = [];
  try {
    for (const size of SIZES) {
      await stack.s3.clear();
      const simulator = await startSimulatorProcess(size, credentials, ACTIVE);
      try {
        const { env } = benchEnv(stack.serve(simulator.url));
        // Back-to-back refreshes stand for one a minute: the per-minute budget would count them together.
        const indexerEnv = { ...env, INDEX_MAX_LOOKUPS_PER_MINUTE: '1000000' };
        const listBytes = await primeList(simulator.url, credentials);
        const open = generateSessions(size, { activeCount: ACTIVE }).filter((session) => session.end === null);
        const numericIds = new Map(open.map((session) => [session.session_id, session.id]));
        const targets = open.slice(Math.floor(open.length / 2)).map((session) => session.session_id);
        const take = (count: number) => targets.splice(0, count);
        let nextId = size + 1;
        const openNew = async (count: number) => {
          const sessions = Array.from({ length: count }, () => openedSession(nextId++));
          await simulator.open(sessions);
          return sessions;
        };
        const refreshes: Array<{ ms: number; lookups: number }> = [];
        /** A run of the indexer as the schedule would make it, before each path: the index stays fresh. */
        const refreshIndex = async () => {
          const run = await runFunction(script, 'index-sessions', [{}], indexerEnv);
          const [only] = run.runs;
          if (only?.result?.kind === 'refresh')
            refreshes.push({ ms: only.endedAt - only.startedAt, lookups: only.result.lookups ?? 0 });
          return run;
        };

        const indexer = await refreshIndex();
        const fullList = indexer.runs[0] as Run;
        const fullListSeconds = (fullList.endedAt - fullList.startedAt) / 1000;

        /** The drop asked for each of these session ids in turn, in one fresh process. */
        const dropByIds = async (ids: string[]) =>
          timesToCut(
            simulator,
            await runFunction(
              script,
              'drop',
              ids.map((id) => ({ session_id: id })),
              env,
            ),
            ids,
          );

        await refreshIndex();
        const indexed = await dropByIds(take(1 + WARM));

        await refreshIndex();
        const byId = await dropByIds((await openNew(1 + WARM)).map((session) => session.session_id));

        await refreshIndex();
        const newByMatch = await openNew(1 + WARM);
        const matchEvents = newByMatch.map((session, index) =>
          siemTerminationRequest(
            `bench-match-${size}-${index}`,
            {
              match: { origin_ip: session.origin_ip },
              reason: 'bench: SOAR playbook, contain the address',
              requested_by: 'soar-playbook:bench',
            },
            'soar.bench',
          ),
        );
        const byMatch = timesToCut(
          simulator,
          await runFunction(script, 'drop', matchEvents, env),
          newByMatch.map((session) => session.session_id),
        );

        await refreshIndex();
        // Each session terminated, then asked for again at once (a repeated request): the second is timed to its response.
        const repeatIds = take(WARM);
        const repeatRun = await runFunction(
          script,
          'drop',
          repeatIds.flatMap((id) => [{ session_id: id }, { session_id: id }]),
          env,
        );
        const repeats = repeatRun.runs.filter((_, index) => index % 2 === 1);
        const repeatTime = median(repeats.map((run) => run.endedAt - run.startedAt));
        const repeatRequests = averageKinds(
          repeats.map((run) => requestsBetween(simulator, run.startedAt, run.endedAt)),
        );

        const activeEvent = httpApiEvent({
          method: 'GET',
          routeKey: 'GET /sessions',
          rawPath: '/sessions',
          queryStringParameters: { active: 'true' },
        });
        // The pieces the drop does not use yet: walking the ids above the index, confirming a session's state.
        const walkFrom = nextId - 1;
        const newForWalk = await openNew(1 + WARM);
        const { output: pieces } = await runScript<LookupPieces>(
          process.execPath,
          ['--enable-source-maps', lookupScript],
          {
            ...env,
            BENCH_WALK_FROM: String(walkFrom),
            BENCH_WALK_TARGETS: newForWalk.map((session) => session.id).join(','),
            BENCH_CONFIRM: JSON.stringify(repeatIds.map((id) => ({ session_id: id, id: numericIds.get(id) }))),
          },
        );
        const warmWalks = pieces.byId.slice(1);

        const listIndexed = await runFunction(script, 'list', [activeEvent], env);
        const listed = listIndexed.runs[0] as Run;

        // Sessions keep opening between the indexer's runs: a few before the last refreshes.
        await openNew(5);
        await refreshIndex();
        await refreshIndex();

        results.push({ size, byId, byMatch, indexed });
        const refreshMs = refreshes.map((refresh) => refresh.ms);
        const lookups = refreshes.map((refresh) => refresh.lookups);
        const worstAge = SCHEDULE_MS / UPDATES_PER_MINUTE + Math.max(...refreshMs);
        rows.push(
          `  ${String(size).padStart(9)} sessions (${(listBytes / 1e6).toFixed(1)} MB), ${ACTIVE} open\n` +
            `${pathRow('drop, indexed id', indexed)}\n` +
            `${pathRow('drop, opened since, by id', byId)}\n` +
            `${pathRow('drop, opened since, match', byMatch)}\n` +
            `    drop, repeat (to response)  warm p50 ${ms(repeatTime).padStart(9)}  peak RSS ${repeatRun.peakRssMB.toFixed(0).padStart(3)} MB  PAM per repeat: ${repeatRequests}\n` +
            `    the lookup pieces alone (warm, p50):\n` +
            `      walk to a session opened since, by id  ${ms(median(warmWalks.map((walk) => walk.ms))).padStart(9)}  lookups ${median(warmWalks.map((walk) => walk.lookups))}\n` +
            `      walk to its end, for a match            ${ms(pieces.toEnd.ms).padStart(9)}  lookups ${pieces.toEnd.lookups} (found ${pieces.toEnd.found})\n` +
            `      confirmActive of a terminated session   ${ms(median(pieces.confirmed.map((state) => state.ms))).padStart(9)}  lookups 1, says ${pieces.confirmed.every((state) => state.active === false && state.via === 'lookup') ? 'ended (by lookup)' : JSON.stringify(pieces.confirmed)}  peak RSS ${pieces.peakRssMB.toFixed(0)} MB\n` +
            `    GET /sessions?active=true   ${ms(listed.endedAt - listed.startedAt).padStart(9)}  peak RSS ${listIndexed.peakRssMB.toFixed(0)} MB\n` +
            `    index-sessions, full list   ${ms(fullListSeconds * 1000).padStart(9)}  peak RSS ${indexer.peakRssMB.toFixed(0)} MB\n` +
            (refreshes.length === 0
              ? '    index-sessions, refresh     none: every run read the full list (this build does not refresh by lookup)'
              : `    index-sessions, refresh     p50 ${ms(median(refreshMs)).padStart(9)}  max ${ms(Math.max(...refreshMs))}  lookups per refresh p50 ${median(lookups)} max ${Math.max(...lookups)}, a minute (${UPDATES_PER_MINUTE} refreshes) p50 ${UPDATES_PER_MINUTE * median(lookups)}  over ${refreshes.length} refreshes\n` +
                `    index age under the schedule: at most ${ms(worstAge)} (60 s / ${UPDATES_PER_MINUTE} updates a minute + the longest refresh)`),
        );
      } finally {
        simulator.stop();
      }
    }
  } finally {
    await stack.close();
  }
  const smallest = results[0];
  const largest = results.at(-1);
  if (smallest && largest && largest !== smallest) {
    const growth = (pick: (figures: (typeof results)[number]) => PathFigures) =>
      `${ratio(pick(largest).warm, pick(smallest).warm)} (${ms(pick(largest).warm - pick(smallest).warm)} more)`;
    rows.push(
      `  ratios ${largest.size} / ${smallest.size}, warm: indexed ${growth((f) => f.indexed)}, opened since by id ${growth((f) => f.byId)}, by match ${growth((f) => f.byMatch)} (target <= 1.5x or within 50 ms)`,
    );
  }
  return rows;
}
