import { randomUUID } from 'node:crypto';
import { entrySize } from '../../lib/aws/audit-trail.js';
import { awsError, closeServer, createAwsJsonServer, listenOnLoopback } from './loopback-server.js';

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
export async function startEventBridgeStandIn(
  options: { port?: number; onEvent?: (event: PublishedEvent) => void } = {},
): Promise<EventBridgeStandIn> {
  const events: PublishedEvent[] = [];
  let refusals: string[] = [];
  let callFailures: string[] = [];
  let calls = 0;

  type Entry = { Source: string; DetailType: string; Detail: string; EventBusName?: string };

  function accept(entry: Entry) {
    const refusal = refusals.shift();
    if (refusal) return { ErrorCode: refusal, ErrorMessage: `Simulated ${refusal}` };
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
  }

  const server = createAwsJsonServer(
    {
      'AWSEvents.PutEvents': (input) => {
        calls += 1;
        const failure = callFailures.shift();
        if (failure) return awsError(failure, `Simulated ${failure}`, failure === 'InternalException' ? 500 : 400);
        const entries = (input.Entries ?? []) as Entry[];
        // As EventBridge does: at most 10 entries and 256 KB of them in one call.
        const size = entries.reduce((sum, entry) => sum + entrySize(entry), 0);
        if (entries.length > 10 || size > 256 * 1024) {
          return awsError(
            'ValidationException',
            `Total size of the entries in the request is over the limit (${size} bytes)`,
          );
        }
        const results = entries.map(accept);
        return {
          status: 200,
          body: { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results },
        };
      },
    },
    (req, res) => {
      if (req.method !== 'GET' || req.url !== '/events') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(events));
      return true;
    },
  );
  const port = await listenOnLoopback(server, options.port);

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
    close: () => closeServer(server),
  };
}
