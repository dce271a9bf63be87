import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { closeServer, listenOnLoopback, withBody } from './loopback-server.js';

export interface FindingUpdate {
  FindingIdentifiers: Array<{ Id: string; ProductArn: string }>;
  Note?: { Text: string; UpdatedBy: string };
  Workflow?: { Status: string };
}

export interface SecurityHubStandIn {
  /** Point the AWS SDK here with AWS_ENDPOINT_URL_SECURITYHUB. */
  url: string;
  updates: FindingUpdate[];
  /** Answer the next `count` calls with Security Hub's 429 TooManyRequestsException. */
  failNextCalls(count: number): void;
  close(): Promise<void>;
}

/**
 * Speaks just enough of Security Hub's REST protocol (BatchUpdateFindings) on loopback to receive
 * what the drop writes back to findings; `GET /updates` lists them.
 */
export async function startSecurityHubStandIn(
  options: { port?: number; onUpdate?: (update: FindingUpdate) => void } = {},
): Promise<SecurityHubStandIn> {
  const updates: FindingUpdate[] = [];
  let failures = 0;
  const server = createServer(
    withBody((req, res, body) => {
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === '/updates') return json(200, updates);
      if (req.method !== 'PATCH' || req.url !== '/findings/batchupdate') {
        return json(404, { Message: `${req.method} ${req.url} is not supported by the stand-in` });
      }
      if (failures > 0) {
        failures -= 1;
        res.setHeader('x-amzn-errortype', 'TooManyRequestsException');
        return json(429, { Message: 'Rate exceeded', Code: 'TooManyRequestsException' });
      }
      const update = JSON.parse(body) as FindingUpdate;
      updates.push(update);
      options.onUpdate?.(update);
      return json(200, {
        ProcessedFindings: update.FindingIdentifiers,
        UnprocessedFindings: [],
      });
    }),
  );
  const port = await listenOnLoopback(server, options.port);
  return {
    url: `http://127.0.0.1:${port}`,
    updates,
    failNextCalls(count) {
      failures = count;
    },
    close: () => closeServer(server),
  };
}
