import { pathToFileURL } from 'node:url';
import { siemTerminationRequest } from '../infra/local/lambda-events.js';
import { requestText } from '../lib/aws/text-request.js';
import { http } from '../lib/core/node-http.js';

/**
 * One function in a fresh process, as a Lambda container runs it: imports the bundle
 * (BENCH_BUNDLE) and invokes its handler with each of BENCH_EVENTS in turn. Prints one JSON line:
 * when each invocation started and ended (epoch ms, comparable with the simulator's arrival times),
 * what it returned, and the process's CPU time and peak RSS. With AWS_LAMBDA_RUNTIME_API (a stand-in
 * of the Extensions API in the parent, infra/local/lambda-runtime-api.ts, which plays the same
 * invocations, `bench-0`, `bench-1`…), `completedAt` is when its extension released the environment.
 * With BENCH_PACE_MS, an invocation starts that long after the previous one did (or once it completed).
 */
const now = () => performance.timeOrigin + performance.now();
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
const runtimeApi = new http.Agent({ keepAlive: true });
/** When the Runtime API stand-in saw this invocation complete (undefined if it never played it). */
const completedAt = async (requestId: string) => {
  const url = new URL(`http://${process.env.AWS_LAMBDA_RUNTIME_API}/local/completed?requestId=${requestId}`);
  const answer = await requestText(url, {
    method: 'GET',
    headers: {},
    agent: runtimeApi,
    signal: new AbortController().signal,
  });
  return (JSON.parse(answer.body) as { completedAt?: number }).completedAt;
};
const { handler } = (await import(pathToFileURL(process.env.BENCH_BUNDLE ?? '').href)) as {
  handler: (event: unknown, context: unknown) => Promise<unknown>;
};
const importedAt = now();
const pace = Number(process.env.BENCH_PACE_MS ?? 0);
const runs: Array<{ startedAt: number; endedAt: number; completedAt?: number; result: unknown }> = [];
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
  // The next invocation starts only once Lambda has called this one complete.
  const complete = process.env.AWS_LAMBDA_RUNTIME_API ? await completedAt(awsRequestId) : undefined;
  runs.push({ startedAt, endedAt, ...(complete ? { completedAt: complete } : {}), result });
}
const usage = process.resourceUsage();
const line = JSON.stringify({
  importedAt,
  runs,
  cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
  peakRssMB: usage.maxRSS / 1024,
});
// An extension's Next waits for an invocation that will not come, as on Lambda: the process ends
// once its line is written (a pipe may take it in parts).
process.stdout.write(`${line}\n`, () => process.exit(0));
