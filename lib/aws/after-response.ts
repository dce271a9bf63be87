import pRetry from 'p-retry';
import { logger } from '../core/logger.js';
import { runtimeApiSettings } from '../core/settings.js';
import { requestText } from './text-request.js';

/**
 * Work a handler need not wait for before it responds (records, write-backs): on Lambda, an
 * internal extension registered with the Extensions API holds the execution environment until that
 * work is done, so the caller has the response at once and the environment is not frozen under
 * the work. Without the Extensions API (serverless-offline, tests, a failed registration) the work
 * is awaited before the response, as it always was.
 */
const EXTENSION_NAME = 'pam-session-responder-after-response';
const REGISTER_TIMEOUT_MS = 1_000;
/** The environment is released this long before the invocation's deadline, whatever is still running. */
const DEADLINE_MARGIN_MS = 500;
/** A failed Next is tried again this many times (the Runtime API is loopback: a failure is rare and brief). */
const NEXT_ATTEMPTS = 3;

interface Invocation {
  returned: Promise<void>;
  markReturned: () => void;
  work: Array<Promise<unknown>>;
  /** The extension has let Lambda end it (its deadline came): work handed over now is not held for. */
  released: boolean;
}

interface NextEvent {
  eventType?: string;
  requestId?: string;
  deadlineMs?: number;
}

let extension: { address: string; id: string } | undefined;
const invocations = new Map<string, Invocation>();
/**
 * The invocation the handler is running. Lambda runs one at a time in an environment, and work is
 * deferred only there (AsyncLocalStorage would put a hook on every promise of the process).
 */
let running: Invocation | undefined;

function invocationOf(requestId: string): Invocation {
  let invocation = invocations.get(requestId);
  if (!invocation) {
    let markReturned = () => {};
    const returned = new Promise<void>((resolve) => {
      markReturned = resolve;
    });
    invocation = { returned, markReturned, work: [], released: false };
    invocations.set(requestId, invocation);
  }
  return invocation;
}

/**
 * Runs `work` after the response when an extension holds the environment for it (resolves at
 * once); otherwise resolves when `work` is done, for the caller to await before it responds.
 * `work` handles its own failures: a rejection is logged, never thrown.
 */
export function afterResponse(work: Promise<unknown>): Promise<void> {
  const settled = work.then(
    () => undefined,
    (error: unknown) =>
      logger.error('Work after the response failed', {
        reason: error instanceof Error ? error.message : String(error),
      }),
  );
  if (!extension || !running || running.released) return settled;
  running.work.push(settled);
  return Promise.resolve();
}

/** Wraps a handler so that what it hands to afterResponse() is held for, per invocation. */
export function respondingFirst<E, C extends { awsRequestId: string }, R>(
  handler: (event: E, context: C) => Promise<R>,
): (event: E, context: C) => Promise<R> {
  // Async, as the handler it wraps: Lambda's runtime treats an async handler's promise as its response.
  return async (event, context) => {
    if (!extension) return handler(event, context);
    const invocation = invocationOf(context.awsRequestId);
    running = invocation;
    try {
      return await handler(event, context);
    } finally {
      running = undefined;
      invocation.markReturned();
    }
  };
}

async function nextEvent(address: string, id: string): Promise<NextEvent> {
  // No time limit: Next blocks until the next invocation, across the environment's freezes (as AWS documents).
  const response = await requestText(new URL(`http://${address}/2020-01-01/extension/event/next`), {
    method: 'GET',
    headers: { 'lambda-extension-identifier': id },
    agent: false,
    signal: new AbortController().signal,
  });
  if (response.status !== 200) throw new Error(`the Extensions API answered Next with ${response.status}`);
  return JSON.parse(response.body) as NextEvent;
}

/** Until the handler has returned and its work is done, or the deadline's margin comes first. */
async function heldFor(event: NextEvent): Promise<void> {
  if (event.eventType !== 'INVOKE' || !event.requestId) return;
  const invocation = invocationOf(event.requestId);
  const deadline = typeof event.deadlineMs === 'number' ? event.deadlineMs : Date.now() + 60_000;
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([
    invocation.returned.then(() => Promise.all(invocation.work)).then(() => true),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, deadline - DEADLINE_MARGIN_MS - Date.now()));
    }),
  ]);
  clearTimeout(timer);
  invocation.released = true;
  invocations.delete(event.requestId);
  if (!done) logger.warn('Work after the response was still running at the deadline; the environment was released');
}

/** The extension's loop: each Next call tells Lambda the previous invocation's work is done. */
async function serve(address: string, id: string): Promise<void> {
  try {
    for (;;)
      await heldFor(
        await pRetry(() => nextEvent(address, id), { retries: NEXT_ATTEMPTS - 1, minTimeout: 20, randomize: true }),
      );
  } catch (error) {
    // Lambda resets an environment whose extension stops calling Next; nothing more is deferred meanwhile.
    extension = undefined;
    logger.error('The Extensions API stopped answering; work after the response is now done before it', {
      reason: error instanceof Error ? error.message : String(error),
    });
  }
}

/**
 * Registers the internal extension. Called once while the function's module loads (Lambda accepts
 * registrations only during init). Without the Runtime API, where one environment runs invocations
 * at once, or if Lambda refuses, nothing is deferred.
 */
export async function registerAfterResponse(): Promise<void> {
  try {
    const { address, maxConcurrency } = runtimeApiSettings();
    if (!address || extension) return;
    // Invocations at once in one environment (Lambda Managed Instances): the work is not told apart, so it is done before each response.
    if (maxConcurrency > 1) return;
    const response = await requestText(new URL(`http://${address}/2020-01-01/extension/register`), {
      method: 'POST',
      headers: { 'lambda-extension-name': EXTENSION_NAME, 'content-type': 'application/json' },
      // Internal extensions may not register for SHUTDOWN.
      body: JSON.stringify({ events: ['INVOKE'] }),
      agent: false,
      signal: AbortSignal.timeout(REGISTER_TIMEOUT_MS),
    });
    const id = response.headers['lambda-extension-identifier'];
    if (response.status !== 200 || typeof id !== 'string' || id === '')
      throw new Error(`the Extensions API answered Register with ${response.status}`);
    extension = { address, id };
    void serve(address, id);
  } catch (error) {
    logger.warn('Could not register for work after the response; it is done before the response', {
      reason: error instanceof Error ? error.message : String(error),
    });
  }
}
