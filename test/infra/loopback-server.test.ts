import { createServer, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listenOnLoopback, withBody } from '../../infra/local/loopback-server.js';

/** An echo stand-in with a 16-byte cap: what every local stand-in reads its requests with. */
const LIMIT = 16;
const server = createServer(
  withBody((_req, res, body) => {
    if (body === 'throw') throw new Error('the handler failed');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`echo:${body}`);
  }, LIMIT),
);
let port = 0;
beforeAll(async () => {
  port = await listenOnLoopback(server);
});
afterAll(() => closeServer(server));

function post(body: string): Promise<{ status: number; text: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/' }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    // Written in two pieces, so the cap is counted across chunks.
    req.write(body.slice(0, 8));
    req.end(body.slice(8));
  });
}

describe('withBody / readBody', () => {
  it('hands the whole body, as UTF-8, to the handler', async () => {
    expect(await post('')).toEqual({ status: 200, text: 'echo:' });
    expect(await post('ação=1')).toEqual({ status: 200, text: 'echo:ação=1' });
  });

  it('accepts a body of exactly the cap and answers 413 one byte over it, without calling the handler', async () => {
    expect(await post('x'.repeat(LIMIT))).toEqual({ status: 200, text: `echo:${'x'.repeat(LIMIT)}` });
    expect(await post('x'.repeat(LIMIT + 1))).toEqual({
      status: 413,
      text: `The request body is over ${LIMIT} bytes`,
    });
  });

  it('closes the connection when the handler throws', async () => {
    expect(await post('throw')).toEqual({ error: 'ECONNRESET' });
  });
});
