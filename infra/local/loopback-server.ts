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
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (other?.(req, res)) return;
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = operations[target];
      const raw = Buffer.concat(chunks).toString('utf8');
      const reply = operation
        ? operation(JSON.parse(raw || '{}') as Record<string, unknown>)
        : awsError('UnknownOperationException', `${target} is not supported by the stand-in`);
      res.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(reply.body));
    });
  });
}
