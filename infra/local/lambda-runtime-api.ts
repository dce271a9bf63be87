import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from './loopback-server.js';

export interface RuntimeApiStandIn {
  /** Give the function AWS_LAMBDA_RUNTIME_API=<address>. */
  address: string;
  /** The extensions that registered, and when each Next call arrived (epoch ms). */
  readonly registered: Array<{ name: string; id: string; nextAt: number[] }>;
  /**
   * Starts an invocation, as Lambda does: every registered extension's Next is answered with its
   * INVOKE event. Resolves when each has called Next again: when Lambda would call the invocation
   * complete and could freeze the environment.
   */
  invoke(requestId: string, deadlineMs: number): Promise<{ completedAt: number }>;
  close(): Promise<void>;
}

interface Extension {
  name: string;
  id: string;
  nextAt: number[];
  waiting?: ServerResponse;
  queued?: string;
  busy: boolean;
}

/**
 * The Extensions API part of Lambda's Runtime API, on loopback, for internal extensions: Register
 * (during init only, INVOKE only; `refuseRegistration` answers it with that status instead), and
 * Next, held until the next invocation. `invoke()` plays the invocations, or `queued` does; for a
 * handler in another process, `GET /local/completed?requestId=…` is answered with {completedAt}
 * once that invocation is complete.
 */
export async function startRuntimeApiStandIn(
  options: {
    functionName?: string;
    refuseRegistration?: number;
    /**
     * Plays `count` invocations by itself, as Lambda with events queued: `${prefix}0` once an
     * extension has called its first Next, each next one once the previous is complete. The
     * handler's process only asks when each is complete (`GET /local/completed`).
     */
    queued?: { prefix: string; count: number; deadlineMs: number };
  } = {},
): Promise<RuntimeApiStandIn> {
  const extensions = new Map<string, Extension>();
  let initDone = false;
  const completions = new Map<string, Promise<{ completedAt: number }>>();
  let completion: { resolve: (at: { completedAt: number }) => void } | undefined;

  let played = 0;
  const playQueued = () => {
    const queued = options.queued;
    if (!queued || played >= queued.count || completion) return;
    const requestId = `${queued.prefix}${played}`;
    played += 1;
    completions.set(requestId, invoke(requestId, queued.deadlineMs));
  };
  const settleIfComplete = () => {
    if (completion && [...extensions.values()].every((extension) => !extension.busy)) {
      completion.resolve({ completedAt: performance.timeOrigin + performance.now() });
      completion = undefined;
      playQueued();
    }
  };
  const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://runtime').pathname;
      if (req.method === 'POST' && path === '/2020-01-01/extension/register') {
        const name = req.headers['lambda-extension-name'];
        const events = (JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { events?: string[] }).events;
        if (options.refuseRegistration) return reply(res, options.refuseRegistration, { errorType: 'Refused' });
        if (typeof name !== 'string' || name === '')
          return reply(res, 400, { errorType: 'InvalidRequest', errorMessage: 'Lambda-Extension-Name is required' });
        if (initDone)
          return reply(res, 403, { errorType: 'Forbidden', errorMessage: 'registration is only accepted during init' });
        if (events?.includes('SHUTDOWN'))
          return reply(res, 403, {
            errorType: 'Forbidden',
            errorMessage: 'internal extensions cannot register for SHUTDOWN',
          });
        const id = randomUUID();
        extensions.set(id, { name, id, nextAt: [], busy: false });
        return reply(
          res,
          200,
          { functionName: options.functionName ?? 'drop', functionVersion: '$LATEST', handler: 'index.handler' },
          { 'lambda-extension-identifier': id },
        );
      }
      if (req.method === 'GET' && path === '/2020-01-01/extension/event/next') {
        const extension = extensions.get(String(req.headers['lambda-extension-identifier'] ?? ''));
        if (!extension) return reply(res, 403, { errorType: 'Forbidden', errorMessage: 'unknown extension' });
        extension.nextAt.push(Date.now());
        if (extension.queued) {
          // A Next that comes after the invocation started, before the extension had its event: it completes nothing.
          const event = extension.queued;
          extension.queued = undefined;
          return res.writeHead(200, { 'content-type': 'application/json' }).end(event);
        }
        extension.busy = false;
        extension.waiting = res;
        settleIfComplete();
        playQueued();
        return;
      }
      if (req.method === 'GET' && path === '/local/completed') {
        const requestId = new URL(req.url ?? '/', 'http://runtime').searchParams.get('requestId') ?? '';
        const completed = completions.get(requestId);
        if (!completed) return reply(res, 404, { errorType: 'NotFound' });
        void completed.then((at) => {
          completions.delete(requestId);
          reply(res, 200, at);
        });
        return;
      }
      reply(res, 404, { errorType: 'NotFound' });
    });
  });
  const port = await listenOnLoopback(server);

  return {
    address: `127.0.0.1:${port}`,
    get registered() {
      return [...extensions.values()].map(({ name, id, nextAt }) => ({ name, id, nextAt }));
    },
    invoke,
    close: () => closeServer(server),
  };

  function invoke(requestId: string, deadlineMs: number): Promise<{ completedAt: number }> {
    initDone = true;
    const event = JSON.stringify({
      eventType: 'INVOKE',
      deadlineMs,
      requestId,
      invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${options.functionName ?? 'drop'}`,
      tracing: { type: 'X-Amzn-Trace-Id', value: `Root=1-${Date.now().toString(16)}-${requestId}` },
    });
    const done = new Promise<{ completedAt: number }>((resolve) => {
      completion = { resolve };
    });
    for (const extension of extensions.values()) {
      extension.busy = true;
      if (extension.waiting) {
        extension.waiting.writeHead(200, { 'content-type': 'application/json' }).end(event);
        extension.waiting = undefined;
      } else extension.queued = event;
    }
    settleIfComplete();
    return done;
  }
}
