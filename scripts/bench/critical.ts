import { generateSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { bundlePath, bundleScript, runScript } from './processes.js';
import { type BenchStack, benchEnv, startBenchStack, startSimulatorProcess } from './stack.js';
import { median, ms, percentile, ratio } from './statistics.js';

/**
 * `npm run bench -- critical`: the critical path against the floor, as ratios in one run. The
 * floor (scripts/bench/floor-child.ts) reads the secret with the Secrets Manager client and sends
 * one signed DELETE with node:http; time to cut is until the simulator (its own process) receives
 * the DELETE: from the process's spawn (cold) or the handler's entry (warm).
 */
const COLD_RUNS = Number(process.env.BENCH_CRITICAL_COLD_RUNS ?? 9);
/** A warm container's code keeps getting faster as V8 optimises it: the first drops and the steady state are reported apart. */
const WARM_DROPS = Number(process.env.BENCH_CRITICAL_WARM_DROPS ?? 1_500);
const EARLY = [10, 100] as const;
const STEADY = 500;
const LIVE_DROPS = 20;
/** A bare DELETE has no code to optimise: a few hundred give its median. */
const BARE_DROPS = 510;
/**
 * Back to back, a drop's first invocations take longer than its later ones, so PAM idles longer
 * between them than between bare DELETEs, and a process woken from idle answers later. Paced, both
 * send one every PACE_MS: the early drops are then compared under the same cadence.
 */
const PACE_MS = 8;
const PACED_DROPS = EARLY[1];
const HISTORY = 7_000;
/**
 * The cold runs' PAM Core has 1,750 active sessions (the simulator makes every 4th one active): a
 * PAM Core keeps hundreds to a few thousand active whatever its history's length, and a cold drop
 * reads and parses an index of all of them before its DELETE.
 */
const COLD_ACTIVE = 1_750;
/**
 * The warm runs need an active session for each of their drops (about 5,300): every session of the
 * history is. A warm drop decides from the index its container holds, so its size costs it nothing;
 * cold, it is measured apart, as a stress figure with no target.
 */
const WARM_ACTIVE = HISTORY;
const STRESS_COLD_RUNS = 5;

interface ChildOutput {
  drops?: Array<{ id: string; sentAt: number; answeredAt: number }>;
  runs?: Array<{
    startedAt: number;
    endedAt: number;
    result: { session_id?: string; outcomes?: Array<{ session_id: string }> };
  }>;
}

const runChild = (script: string, env: Record<string, string>) =>
  runScript<ChildOutput>(process.execPath, [script], env);

const floorScript = 'dist/bench/floor-child.mjs';
const handlerScript = 'dist/bench/handler-child.mjs';

/**
 * A simulator with `active` of its HISTORY sessions active, indexed afresh by index-sessions (a full
 * list, checked: an index left by another simulator would be refreshed instead), and its active ids to take.
 */
async function pamWithIndex(stack: BenchStack, active: number) {
  const simulator = await startSimulatorProcess(HISTORY, stack.credentials, active);
  const { env, noIndex } = benchEnv(stack.serve(simulator.url));
  const ids = generateSessions(HISTORY, { activeCount: active })
    .filter((session) => session.end === null)
    .map((session) => session.session_id);
  await stack.s3.clear();
  const { output } = await runChild(handlerScript, {
    ...env,
    BENCH_BUNDLE: bundlePath('index-sessions'),
    BENCH_EVENTS: '[{}]',
  });
  const indexed = output.runs?.[0]?.result as { kind?: string; active?: number } | undefined;
  if (ids.length !== active || indexed?.kind !== 'full_list' || indexed.active !== active)
    throw new Error(`expected a full list of ${active} active sessions, got ${ids.length}: ${JSON.stringify(indexed)}`);
  const arrival = (id: string) => {
    const at = simulator.drops.get(id);
    if (at === undefined) throw new Error(`no DELETE arrived for ${id}`);
    return at;
  };
  return {
    env,
    noIndex,
    take: (count: number) => ids.splice(0, count),
    arrival,
    /** Cold time to cut `id` by the floor: from its process's spawn to the DELETE received. */
    floorCut: async (id: string) => {
      const { spawnedAt } = await runChild(floorScript, { ...env, BENCH_SESSION_IDS: id });
      return arrival(id) - spawnedAt;
    },
    /** Cold time to cut `id` by drop in a fresh process, with `childEnv` (the index's, or noIndex). */
    dropCut: async (id: string, childEnv = env) => {
      const { spawnedAt } = await runDrop({ ...childEnv, BENCH_EVENTS: JSON.stringify([{ session_id: id }]) });
      return arrival(id) - spawnedAt;
    },
    stop: () => simulator.stop(),
  };
}

/** drop in a fresh process, as a Lambda container runs it. */
const runDrop = (env: Record<string, string>) => runChild(handlerScript, { ...env, BENCH_BUNDLE: bundlePath('drop') });

export async function criticalBench(): Promise<string[]> {
  await bundleScript('scripts/bench/floor-child.ts', floorScript);
  await bundleScript('scripts/bench/handler-child.ts', handlerScript);
  const stack = await startBenchStack({ bucket: 'bench-critical', dynamodb: true });
  try {
    return await measure(stack);
  } finally {
    await stack.close();
  }
}

/** Cold time to cut at COLD_ACTIVE active sessions: the floor, an indexed drop and the live fallback in turn. */
async function coldRuns(stack: BenchStack) {
  const cold = { floor: [] as number[], indexed: [] as number[], live: [] as number[] };
  const pam = await pamWithIndex(stack, COLD_ACTIVE);
  try {
    for (let run = 0; run < COLD_RUNS; run += 1) {
      const [floorId, indexedId, liveId] = pam.take(3) as [string, string, string];
      cold.floor.push(await pam.floorCut(floorId));
      cold.indexed.push(await pam.dropCut(indexedId));
      cold.live.push(await pam.dropCut(liveId, pam.noIndex));
    }
    return cold;
  } finally {
    pam.stop();
  }
}

async function measure(stack: BenchStack): Promise<string[]> {
  const cold = { ...(await coldRuns(stack)), stress: [] as number[], stressFloor: [] as number[] };
  const pam = await pamWithIndex(stack, WARM_ACTIVE);
  try {
    const { env, noIndex, take, arrival } = pam;
    for (let run = 0; run < STRESS_COLD_RUNS; run += 1) {
      const [floorId, id] = take(2) as [string, string];
      cold.stressFloor.push(await pam.floorCut(floorId));
      cold.stress.push(await pam.dropCut(id));
    }

    const bareIds = take(BARE_DROPS);
    const bare = (await runChild(floorScript, { ...env, BENCH_SESSION_IDS: bareIds.join(',') })).output.drops ?? [];
    const bareToArrival = bare.slice(10).map((drop) => arrival(drop.id) - drop.sentAt);
    const bareRoundTrip = bare.slice(10).map((drop) => drop.answeredAt - drop.sentAt);
    // Node's own HTTP client warms up too: the first drops are also compared with the bare DELETE's first ones.
    const bareEarly = median(bare.slice(...EARLY).map((drop) => arrival(drop.id) - drop.sentAt));

    const pacedBare =
      (
        await runChild(floorScript, {
          ...env,
          BENCH_SESSION_IDS: take(PACED_DROPS).join(','),
          BENCH_PACE_MS: String(PACE_MS),
        })
      ).output.drops ?? [];
    const pacedBareCut = median(pacedBare.slice(...EARLY).map((drop) => arrival(drop.id) - drop.sentAt));

    const warmRuns = async (ids: string[], childEnv: Record<string, string>) => {
      const { output } = await runDrop({
        ...childEnv,
        BENCH_EVENTS: JSON.stringify(ids.map((id) => ({ session_id: id }))),
      });
      const runs = output.runs ?? [];
      const cutId = (run: (typeof runs)[number]) => run.result.session_id ?? run.result.outcomes?.[0]?.session_id ?? '';
      const phase = (measured: typeof runs) => ({
        toCut: measured.map((run) => arrival(cutId(run)) - run.startedAt),
        whole: measured.map((run) => run.endedAt - run.startedAt),
      });
      return { ...phase(runs.slice(10)), early: phase(runs.slice(...EARLY)), steady: phase(runs.slice(-STEADY)) };
    };
    const warmIndexed = await warmRuns(take(WARM_DROPS), env);
    const warmPaced = await warmRuns(take(PACED_DROPS), { ...env, BENCH_PACE_MS: String(PACE_MS) });
    const warmLive = await warmRuns(take(LIVE_DROPS + 10), noIndex);
    // The product's main path: a SIEM's request on EventBridge, whose replay records are read beside the cut.
    const warmEvents = await warmRuns(take(WARM_DROPS), { ...env, BENCH_EVENT_SHAPE: 'siem' });
    // The same without the idempotency table: what Powertools Idempotency's in-progress write costs an event.
    const warmEventsOnce = await warmRuns(take(WARM_DROPS), {
      ...env,
      BENCH_EVENT_SHAPE: 'siem',
      IDEMPOTENCY_TABLE: '',
    });

    const floorCold = median(cold.floor);
    const bareCut = median(bareToArrival);
    const bareTrip = median(bareRoundTrip);
    return [
      `  node ${process.version}; history ${HISTORY} sessions, ${COLD_ACTIVE} active (cold) and ${WARM_ACTIVE} (warm); medians of ${COLD_RUNS} cold runs and ${WARM_DROPS - 10} warm drops`,
      `  cold time to cut (spawn -> DELETE received)`,
      `    floor (Secrets Manager client + signed node:http DELETE)  ${ms(floorCold)}`,
      `    drop, indexed                ${ms(median(cold.indexed)).padStart(9)}   ${ratio(median(cold.indexed), floorCold)} the floor (target <= 1.5)   spread ${ms(Math.min(...cold.indexed))} - ${ms(Math.max(...cold.indexed))}`,
      `    drop, live fallback          ${ms(median(cold.live)).padStart(9)}   ${ratio(median(cold.live), floorCold)} the floor`,
      `    drop, indexed, ${WARM_ACTIVE} active (stress, no target; ${STRESS_COLD_RUNS} runs, each after a floor)  ${ms(median(cold.stress))}   ${ratio(median(cold.stress), median(cold.stressFloor))} their floor (${ms(median(cold.stressFloor))})   spread ${ms(Math.min(...cold.stress))} - ${ms(Math.max(...cold.stress))}`,
      `  warm time to cut (handler entry -> DELETE received); steady = the last ${STEADY} of ${WARM_DROPS} drops, early = drops ${EARLY[0]}-${EARLY[1]}`,
      `    bare signed DELETE (send -> received)  p50 ${ms(bareCut)}   round trip p50 ${ms(bareTrip)}   its sends ${EARLY[0]}-${EARLY[1]} p50 ${ms(bareEarly)}`,
      `    drop, indexed session, steady  p50 ${ms(median(warmIndexed.steady.toCut))}  p95 ${ms(percentile(warmIndexed.steady.toCut, 0.95))}   ${ratio(median(warmIndexed.steady.toCut), bareCut)} a bare DELETE (target <= 1.5)`,
      `    drop, indexed session, early   p50 ${ms(median(warmIndexed.early.toCut))}   ${ratio(median(warmIndexed.early.toCut), bareCut)} a bare DELETE, ${ratio(median(warmIndexed.early.toCut), bareEarly)} its first sends;  all drops p50 ${ms(median(warmIndexed.toCut))} (${ratio(median(warmIndexed.toCut), bareCut)})`,
      `    paced, one every ${PACE_MS} ms, drops ${EARLY[0]}-${EARLY[1]}: bare DELETE p50 ${ms(pacedBareCut)}, drop, indexed session p50 ${ms(median(warmPaced.early.toCut))}   ${ratio(median(warmPaced.early.toCut), pacedBareCut)} the paced bare DELETE`,
      `    drop, whole handler (audit and records included, until it responds), steady  p50 ${ms(median(warmIndexed.steady.whole))}   ${ratio(median(warmIndexed.steady.whole), bareTrip)} a bare DELETE's round trip; early p50 ${ms(median(warmIndexed.early.whole))}`,
      `    drop, live fallback          p50 ${ms(median(warmLive.toCut))}   ${ratio(median(warmLive.toCut), bareCut)} a bare DELETE`,
      `    drop, a SIEM's event by id, without the idempotency table, steady  p50 ${ms(median(warmEventsOnce.steady.toCut))}   ${ratio(median(warmEventsOnce.steady.toCut), bareCut)} a bare DELETE; whole handler p50 ${ms(median(warmEventsOnce.steady.whole))}`,
      `    drop, a SIEM's event by id (idempotency table), steady  p50 ${ms(median(warmEvents.steady.toCut))}  p95 ${ms(percentile(warmEvents.steady.toCut, 0.95))}   ${ratio(median(warmEvents.steady.toCut), bareCut)} a bare DELETE; whole handler p50 ${ms(median(warmEvents.steady.whole))} (${ratio(median(warmEvents.steady.whole), bareTrip)} the round trip)`,
    ];
  } finally {
    pam.stop();
  }
}
