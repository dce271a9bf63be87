import { Agent, request } from 'node:http';
import { pathToFileURL } from 'node:url';

/**
 * One function in a fresh process, as a Lambda container runs it: imports the bundle
 * (BENCH_BUNDLE) and invokes its handler with each of BENCH_EVENTS in turn. Prints one JSON line:
 * when each invocation started and ended (epoch ms, comparable with the simulator's arrival times),
 * what it returned, and the process's CPU time and peak RSS. With AWS_LAMBDA_RUNTIME_API (a stand-in
 * of the Extensions API in the parent, infra/local/lambda-runtime-api.ts), each invocation is also
 * played there, and `completedAt` is when its extension released the environment.
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
/** One call to the Runtime API stand-in, its JSON answer. */
const callRuntime = (method: string, path: string, body?: unknown) =>
  new Promise<unknown>((resolve, reject) => {
    const call = request(
      `http://${process.env.AWS_LAMBDA_RUNTIME_API}${path}`,
      { method, agent: runtimeApi },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
      },
    );
    call.on('error', reject);
    call.end(body === undefined ? undefined : JSON.stringify(body));
  });
const { handler } = (await import(pathToFileURL(process.env.BENCH_BUNDLE ?? '').href)) as {
  handler: (event: unknown, context: unknown) => Promise<unknown>;
};
const importedAt = now();
const runs: Array<{ startedAt: number; endedAt: number; completedAt?: number; result: unknown }> = [];
for (let index = 0; index < listed.length; index += 1) {
  const event = eventAt(index);
  const awsRequestId = `bench-${runs.length}`;
  // As Lambda does, the extension is sent its event as the invocation starts.
  if (process.env.AWS_LAMBDA_RUNTIME_API)
    await callRuntime('POST', '/local/invoke', { requestId: awsRequestId, deadlineMs: Date.now() + 900_000 });
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
  const completedAt = process.env.AWS_LAMBDA_RUNTIME_API
    ? ((await callRuntime('GET', `/local/completed?requestId=${awsRequestId}`)) as { completedAt: number }).completedAt
    : undefined;
  runs.push({ startedAt, endedAt, ...(completedAt ? { completedAt } : {}), result });
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
