import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeServer, listenOnLoopback } from '../../infra/local/loopback-server.js';
import { rememberTerminated, terminatedAmong } from '../../lib/inventory/terminated-markers.js';
import { EXAMPLE_CREDENTIALS, resignedAuthorization, stubLambdaCredentials } from '../support/sigv4-gateway.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback S3 keeping objects by key; each request takes the next status of `statuses` (then 200). */
const received: Received[] = [];
const objects = new Map<string, string>();
let statuses: number[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const request = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    };
    received.push(request);
    const next = statuses.shift();
    // 0: the connection is cut before any answer.
    if (next === 0) {
      req.socket.destroy();
      return;
    }
    const status = next ?? (request.method === 'HEAD' && !objects.has(request.url) ? 404 : 200);
    if (status === 200 && request.method === 'PUT') objects.set(request.url, request.body);
    res.writeHead(status, { 'last-modified': new Date().toUTCString(), etag: '"e"' });
    res.end(
      status === 200 || request.method === 'HEAD'
        ? ''
        : `<Error><Code>${status === 403 ? 'AccessDenied' : 'InternalError'}</Code></Error>`,
    );
  });
});
let port = 0;

beforeAll(async () => {
  port = await listenOnLoopback(server);
  stubLambdaCredentials('eu-west-1', { variable: 'AWS_ENDPOINT_URL_S3', url: `http://127.0.0.1:${port}` });
});
afterEach(() => {
  received.length = 0;
  objects.clear();
  statuses = [];
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await closeServer(server);
});

describe("the record of a termination, written with Node's HTTP client after the DELETE", () => {
  it('PUTs one signed JSON object per session, its payload hash signed with it', async () => {
    await rememberTerminated('inventory', ['abc123'], 'event-1');
    expect(received).toHaveLength(1);
    const [put] = received as [Received];
    expect(put.method).toBe('PUT');
    expect(put.url).toBe('/inventory/terminated/sessions/abc123.json');
    expect(put.headers['content-type']).toBe('application/json');
    expect(put.headers['x-amz-security-token']).toBe('token-for-the-test');
    expect(put.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(put.body).digest('hex'));
    expect(put.headers.authorization).toMatch(/SignedHeaders=content-length;content-type;host;x-amz-content-sha256;/);
    expect(put.headers.authorization).toBe(
      await resignedAuthorization(put, { service: 's3', region: 'eu-west-1', credentials: EXAMPLE_CREDENTIALS, port }),
    );
    expect(JSON.parse(put.body)).toMatchObject({ event_id: 'event-1' });
  });

  it('tries once more after a 500, and a later HEAD finds the session recorded (and not another)', async () => {
    statuses = [500];
    await rememberTerminated('inventory', ['abc123'], 'event-1');
    expect(received.map((request) => request.method)).toEqual(['PUT', 'PUT']);
    const recorded = await terminatedAmong('inventory', ['abc123', 'def456']);
    expect([...recorded.keys()]).toEqual(['abc123']);
  });

  it('tries once more when the connection drops, and not a third time', async () => {
    statuses = [0, 0];
    await rememberTerminated('inventory', ['abc123'], 'event-1');
    expect(received.map((request) => request.method)).toEqual(['PUT', 'PUT']);
    expect(objects.size).toBe(0);
  });

  it('does not repeat a PUT S3 refused (403), and does not fail the termination for it', async () => {
    statuses = [403, 403];
    await expect(rememberTerminated('inventory', ['abc123'], 'event-1')).resolves.toBeUndefined();
    expect(received.map((request) => request.method)).toEqual(['PUT']);
  });
});
