import { pathToFileURL } from 'node:url';
import { siemTerminationRequest } from '../../infra/local/lambda-events.js';
import { now } from './clock.js';

/**
 * One function in a fresh process, as a Lambda container runs it: imports the bundle
 * (BENCH_BUNDLE) and invokes its handler with each of BENCH_EVENTS in turn. Prints one JSON line:
 * when each invocation started and ended (epoch ms, comparable with the simulator's arrival times),
 * what it returned, and the process's CPU time and peak RSS. With BENCH_PACE_MS, an invocation starts that long after the previous one did (or once it completed).
 */
const listed = JSON.parse(process.env.BENCH_EVENTS ?? '[]') as Array<{ session_id?: string }>;
/**
 * BENCH_EVENT_SHAPE=siem: each `{session_id}` is sent as a SIEM's termination request on EventBridge,
 * stamped when it is invoked (the environment cannot carry a thousand whole events).
 */
const eventAt = (index: number): unknown =>
  process.env.BENCH_EVENT_SHAPE === 'siem'
    ? siemTerminationRequest(
        `bench-${process.pid}-${index}`,
        {
          session_ids: [listed[index]?.session_id],
          reason: 'bench: SOAR playbook',
          requested_by: 'soar-playbook:bench',
        },
        'soar.bench',
      )
    : listed[index];
const { handler } = (await import(pathToFileURL(process.env.BENCH_BUNDLE ?? '').href)) as {
  handler: (event: unknown, context: unknown) => Promise<unknown>;
};
const importedAt = now();
const pace = Number(process.env.BENCH_PACE_MS ?? 0);
const runs: Array<{ startedAt: number; endedAt: number; result: unknown }> = [];
for (let index = 0; index < listed.length; index += 1) {
  const previous = runs.at(-1);
  if (previous && pace > 0)
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, previous.startedAt + pace - now())));
  const event = eventAt(index);
  const awsRequestId = `bench-${runs.length}`;
  const startedAt = now();
  const context = {
    awsRequestId,
    functionName: 'bench',
    getRemainingTimeInMillis: () => 900_000 - (now() - startedAt),
  };
  const result = await handler(event, context).catch((error: Error) => ({
    errorType: error.name,
    errorMessage: error.message,
  }));
  const endedAt = now();
  runs.push({ startedAt, endedAt, result });
}
const usage = process.resourceUsage();
const line = JSON.stringify({
  importedAt,
  runs,
  cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
  peakRssMB: usage.maxRSS / 1024,
});
// The process ends once its line is written (a pipe may take it in parts), whatever keep-alive sockets remain.
process.stdout.write(`${line}\n`, () => process.exit(0));
