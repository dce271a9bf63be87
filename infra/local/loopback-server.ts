import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on 127.0.0.1 (port 0: any free one) and gives the port. */
export async function listenOnLoopback(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return (server.address() as AddressInfo).port;
}

export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** More than any stand-in's request needs (an EventBridge PutEvents is at most 1 MiB); a runaway client is refused. */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

export class RequestBodyTooLarge extends Error {
  constructor(limit: number) {
    super(`The request body is over ${limit} bytes`);
    this.name = 'RequestBodyTooLarge';
  }
}

/**
 * A request's body as UTF-8 text. Past `limit` bytes the rest is drained unkept and the promise
 * rejects with RequestBodyTooLarge once the request ends, so the server can still respond.
 */
export function readBody(req: IncomingMessage, limit = MAX_REQUEST_BODY_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () =>
      size > limit ? reject(new RequestBodyTooLarge(limit)) : resolve(Buffer.concat(chunks).toString('utf8')),
    );
  });
}

/**
 * A request listener that reads the body (readBody) before `handle` runs: a body over the cap is
 * answered 413; a request that breaks off, or a handler that throws, has its connection closed.
 */
export function withBody(
  handle: (req: IncomingMessage, res: ServerResponse, body: string) => unknown,
  limit = MAX_REQUEST_BODY_BYTES,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return (req, res) =>
    readBody(req, limit)
      .then((body) => handle(req, res, body))
      .then(
        () => undefined,
        (error: unknown) => {
          if (!(error instanceof RequestBodyTooLarge) || res.headersSent) return void res.destroy();
          res.writeHead(413, { 'content-type': 'text/plain' });
          res.end(error.message);
        },
      );
}

export interface AwsReply {
  status: number;
  body: unknown;
}

/** An AWS error in the JSON protocol's shape, which the SDK turns into the named exception. */
export const awsError = (type: string, message: string, status = 400): AwsReply => ({
  status,
  body: { __type: type, message },
});

/**
 * A server speaking the AWS JSON 1.1 protocol: the operation is named by the X-Amz-Target header
 * and its input is the JSON body. `other` may answer requests that are not AWS calls.
 */
export function createAwsJsonServer(
  operations: Record<string, (input: Record<string, unknown>) => AwsReply>,
  other?: (req: IncomingMessage, res: ServerResponse) => boolean,
): Server {
  return createServer(
    withBody((req, res, raw) => {
      if (other?.(req, res)) return;
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = operations[target];
      const reply = operation
        ? operation(JSON.parse(raw || '{}') as Record<string, unknown>)
        : awsError('UnknownOperationException', `${target} is not supported by the stand-in`);
      res.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(reply.body));
    }),
  );
}
