import { pathToFileURL } from 'node:url';

/**
 * One function in a fresh process, as a Lambda container runs it: imports the bundle
 * (BENCH_BUNDLE) and invokes its handler with each of BENCH_EVENTS in turn. Prints one JSON line:
 * when each invocation started and ended (epoch ms, comparable with the simulator's arrival times),
 * what it returned, and the process's CPU time and peak RSS.
 */
const now = () => performance.timeOrigin + performance.now();
const events = JSON.parse(process.env.BENCH_EVENTS ?? '[]') as unknown[];
const { handler } = (await import(pathToFileURL(process.env.BENCH_BUNDLE ?? '').href)) as {
  handler: (event: unknown, context: unknown) => Promise<unknown>;
};
const importedAt = now();
const runs: Array<{ startedAt: number; endedAt: number; result: unknown }> = [];
for (const event of events) {
  const startedAt = now();
  const context = {
    awsRequestId: `bench-${runs.length}`,
    functionName: 'bench',
    getRemainingTimeInMillis: () => 900_000 - (now() - startedAt),
  };
  const result = await handler(event, context).catch((error: Error) => ({
    errorType: error.name,
    errorMessage: error.message,
  }));
  runs.push({ startedAt, endedAt: now(), result });
}
const usage = process.resourceUsage();
console.log(
  JSON.stringify({
    importedAt,
    runs,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    peakRssMB: usage.maxRSS / 1024,
  }),
);
