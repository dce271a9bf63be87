import { createServer, type IncomingMessage } from 'node:http';
import { closeServer, listenOnLoopback } from '../../infra/local/loopback-server.js';

export interface Received {
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

interface Reply {
  status: number;
  body: unknown;
}

/**
 * A loopback AWS JSON 1.1 API that records every call: each takes the next reply queued with
 * `answerNext`, else a success built by `success` from the call's body.
 */
export function jsonApiStandIn(success: (body: string) => unknown) {
  const received: Received[] = [];
  const queued: Reply[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      received.push({ url: req.url ?? '', headers: req.headers, body });
      const reply = queued.shift() ?? { status: 200, body: success(body) };
      res.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(reply.body));
    });
  });
  return {
    received,
    answerNext: (...replies: Reply[]) => queued.push(...replies),
    listen: () => listenOnLoopback(server),
    reset: () => {
      received.length = 0;
      queued.length = 0;
    },
    close: () => closeServer(server),
  };
}
