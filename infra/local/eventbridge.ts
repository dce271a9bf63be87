import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PublishedEvent {
  id: string;
  source: string;
  'detail-type': string;
  detail: unknown;
  eventBusName: string;
  time: string;
}

export interface EventBridgeStandIn {
  /** Point the AWS SDK here with AWS_ENDPOINT_URL_EVENTBRIDGE. */
  url: string;
  events: PublishedEvent[];
  /** How many PutEvents calls it answered. */
  readonly calls: number;
  /** Refuse the next `count` entries with this error code (PutEvents' partial failure). */
  refuseEntries(count: number, errorCode?: string): void;
  /** Answer the next calls with a whole-call error (e.g. "ThrottlingException"). */
  failNextCalls(count: number, errorType?: string): void;
  close(): Promise<void>;
}

/**
 * Speaks just enough of the EventBridge JSON protocol (PutEvents) on loopback to receive the
 * audit trail, locally and in tests; `GET /events` lists what it received.
 */
export async function startEventBridgeStandIn(options: { port?: number; onEvent?: (event: PublishedEvent) => void } = {}): Promise<EventBridgeStandIn> {
  const events: PublishedEvent[] = [];
  let refusals: string[] = [];
  let callFailures: string[] = [];
  let calls = 0;

  function reply(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify(body));
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string) {
    if (req.method === 'GET' && req.url === '/events') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(events));
      return;
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target !== 'AWSEvents.PutEvents') {
      reply(res, 400, { __type: 'UnknownOperationException', message: `${target} is not supported by the stand-in` });
      return;
    }
    calls += 1;
    const failure = callFailures.shift();
    if (failure) {
      reply(res, failure === 'InternalException' ? 500 : 400, { __type: failure, message: `Simulated ${failure}` });
      return;
    }
    const { Entries = [] } = JSON.parse(raw || '{}') as {
      Entries?: Array<{ Source: string; DetailType: string; Detail: string; EventBusName?: string; Time?: number }>;
    };
    let failed = 0;
    const results = Entries.map((entry) => {
      const refusal = refusals.shift();
      if (refusal) {
        failed += 1;
        return { ErrorCode: refusal, ErrorMessage: `Simulated ${refusal}` };
      }
      const event: PublishedEvent = {
        id: randomUUID(),
        source: entry.Source,
        'detail-type': entry.DetailType,
        detail: JSON.parse(entry.Detail),
        eventBusName: entry.EventBusName ?? 'default',
        time: new Date().toISOString(),
      };
      events.push(event);
      options.onEvent?.(event);
      return { EventId: event.id };
    });
    reply(res, 200, { FailedEntryCount: failed, Entries: results });
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    events,
    get calls() {
      return calls;
    },
    refuseEntries(count, errorCode = 'ThrottlingException') {
      refusals = [...refusals, ...Array.from({ length: count }, () => errorCode)];
    },
    failNextCalls(count, errorType = 'InternalException') {
      callFailures = [...callFailures, ...Array.from({ length: count }, () => errorType)];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
