import { pathToFileURL } from 'node:url';

/**
 * One function in a fresh process, as a Lambda container runs it: imports the bundle
 * (BENCH_BUNDLE) and invokes its handler with each of BENCH_EVENTS in turn. Prints one JSON line:
 * when each invocation started and ended (epoch ms, comparable with the simulator's arrival times),
 * what it returned, and the process's CPU time and peak RSS.
 */
const now = () => performance.timeOrigin + performance.now();
const listed = JSON.parse(process.env.BENCH_EVENTS ?? '[]') as Array<{ session_id?: string }>;
/**
 * BENCH_EVENT_SHAPE=siem: each `{session_id}` is sent as a SIEM's termination request on EventBridge,
 * stamped when it is invoked (the environment cannot carry a thousand whole events).
 */
const siemEvent = (sessionId: string | undefined, index: number) => ({
  version: '0',
  id: `bench-${process.pid}-${index}`,
  'detail-type': 'PAM Session Termination Requested',
  source: 'soar.bench',
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: [],
  detail: { session_ids: [sessionId], reason: 'bench: SOAR playbook', requested_by: 'soar-playbook:bench' },
});
const eventAt = (index: number): unknown =>
  process.env.BENCH_EVENT_SHAPE === 'siem' ? siemEvent(listed[index]?.session_id, index) : listed[index];
const { handler } = (await import(pathToFileURL(process.env.BENCH_BUNDLE ?? '').href)) as {
  handler: (event: unknown, context: unknown) => Promise<unknown>;
};
const importedAt = now();
const runs: Array<{ startedAt: number; endedAt: number; result: unknown }> = [];
for (let index = 0; index < listed.length; index += 1) {
  const event = eventAt(index);
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
