import { Agent, request } from 'node:http';
import { pathToFileURL } from 'node:url';

/**
 * One function in a fresh process, as a Lambda container runs it: imports the bundle
 * (BENCH_BUNDLE) and invokes its handler with each of BENCH_EVENTS in turn. Prints one JSON line:
 * when each invocation started and ended (epoch ms, comparable with the simulator's arrival times),
 * what it returned, and the process's CPU time and peak RSS. With AWS_LAMBDA_RUNTIME_API (a stand-in
 * of the Extensions API in the parent, infra/local/lambda-runtime-api.ts, which plays the same
 * invocations, `bench-0`, `bench-1`…), `completedAt` is when its extension released the environment.
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
const runtimeApi = new Agent({ keepAlive: true });
/** When the Runtime API stand-in saw this invocation complete (undefined if it never played it). */
const completedAt = (requestId: string) =>
  new Promise<number | undefined>((resolve, reject) => {
    const call = request(
      `http://${process.env.AWS_LAMBDA_RUNTIME_API}/local/completed?requestId=${requestId}`,
      { agent: runtimeApi },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve((JSON.parse(Buffer.concat(chunks).toString()) as { completedAt?: number }).completedAt),
        );
      },
    );
    call.on('error', reject);
    call.end();
  });
const { handler } = (await import(pathToFileURL(process.env.BENCH_BUNDLE ?? '').href)) as {
  handler: (event: unknown, context: unknown) => Promise<unknown>;
};
const importedAt = now();
const runs: Array<{ startedAt: number; endedAt: number; completedAt?: number; result: unknown }> = [];
for (let index = 0; index < listed.length; index += 1) {
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
