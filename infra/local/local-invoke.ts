import { pathToFileURL } from 'node:url';
import { startLocalPam } from './local-pam.js';
import { LOCAL_PORTS } from './local-ports.js';
import type { RecordedSchedule } from './scheduler.js';

const { SCHEDULER_PORT, LAMBDA_PORT, EVENTBRIDGE_PORT, SECURITYHUB_PORT } = LOCAL_PORTS;

export interface Invocation {
  result: unknown;
  /** Events the invocation published on the (local) bus. */
  published: unknown[];
  /** What it wrote back to Security Hub findings. */
  findingUpdates: unknown[];
  /** The reactivation schedules the local Scheduler holds after it. */
  schedules: RecordedSchedule[];
  /** In a fresh stack only: the schedules run at once, as if their time had come, and what they answered. */
  fired?: Array<{ schedule: RecordedSchedule; result: unknown }>;
  where: string;
}

async function reachable(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
}

async function invokeRunningStack(name: string, event: unknown): Promise<Invocation> {
  const eventsUrl = `http://127.0.0.1:${EVENTBRIDGE_PORT}/events`;
  const updatesUrl = `http://127.0.0.1:${SECURITYHUB_PORT}/updates`;
  const list = async (url: string) => (await (await fetch(url)).json()) as unknown[];
  const [seen, updated] = [(await list(eventsUrl)).length, (await list(updatesUrl)).length];
  const response = await fetch(
    `http://localhost:${LAMBDA_PORT}/2015-03-31/functions/pam-session-responder-local-${name}/invocations`,
    {
      method: 'POST',
      body: JSON.stringify(event),
    },
  );
  const result = (await response.json()) as unknown;
  const published = (await list(eventsUrl)).slice(seen);
  const findingUpdates = (await list(updatesUrl)).slice(updated);
  const schedules = (await list(`http://127.0.0.1:${SCHEDULER_PORT}/schedules`).catch(() => [])) as RecordedSchedule[];
  return { result, published, findingUpdates, schedules, where: 'the running npm start stack' };
}

type LoadedHandler = (event: unknown, context: unknown) => Promise<unknown>;

async function bundleHandler(name: string): Promise<LoadedHandler> {
  const bundle = pathToFileURL(new URL(`../../dist/${name}/index.mjs`, import.meta.url).pathname).href;
  return ((await import(bundle)) as { handler: LoadedHandler }).handler;
}

const localContext = (name: string) => ({
  awsRequestId: 'local',
  functionName: `pam-session-responder-local-${name}`,
  getRemainingTimeInMillis: () => 900_000,
});

async function invokeInProcess(name: string, event: unknown): Promise<Invocation> {
  // A schedule's target is the credentials function's bundle, run here when the schedule fires.
  const local = await startLocalPam({
    invokeSchedule: async (_arn, input) => (await bundleHandler('credentials'))(input, localContext('credentials')),
  });
  Object.assign(process.env, local.env, {
    PROTECTED_USERS: process.env.PROTECTED_USERS ?? 'break_glass',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  try {
    const handler = await bundleHandler(name);
    const result = await handler(event, localContext(name)).catch((error: Error) => ({
      errorType: error.name,
      errorMessage: error.message,
    }));
    const schedules = [...local.scheduler.schedules.values()];
    // The stack ends with this process: the quarantine's end is shown now rather than never.
    const fired = await local.scheduler.fireDue();
    return {
      result,
      published: [...local.eventBridge.events],
      findingUpdates: [...local.securityHub.updates],
      schedules,
      fired,
      where: 'a fresh local stack in this process (start `npm start` to keep state between runs)',
    };
  } finally {
    await local.close();
  }
}

/**
 * Invokes a function as AWS would: in the running `npm start` stack when there is one (its
 * simulator, bus and bucket keep their state), otherwise the built bundle against a fresh stack here.
 */
export async function invokeLocally(
  name: 'drop' | 'export' | 'index-sessions' | 'credentials',
  event: unknown,
): Promise<Invocation> {
  const stackUp =
    (await reachable(`http://localhost:${LAMBDA_PORT}`)) &&
    (await reachable(`http://127.0.0.1:${EVENTBRIDGE_PORT}/events`));
  return stackUp ? invokeRunningStack(name, event) : invokeInProcess(name, event);
}
