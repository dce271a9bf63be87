import { createServer, type IncomingMessage } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeServer, listenOnLoopback, withBody } from '../../infra/local/loopback-server.js';
import { recordTerminated, terminatedAmong } from '../../lib/inventory/termination-records.js';

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
const server = createServer(
  withBody((req, res, body) => {
    const request = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: body,
    };
    received.push(request);
    const next = statuses.shift();
    // 0: the connection is cut before any answer.
    if (next === 0) {
      req.socket.destroy();
      return;
    }
    const path = request.url.split('?')[0] ?? '';
    const status = next ?? (request.method === 'HEAD' && !objects.has(path) ? 404 : 200);
    if (status === 200 && request.method === 'PUT') objects.set(path, request.body);
    res.writeHead(status, { 'last-modified': new Date().toUTCString(), etag: '"e"' });
    res.end(
      status === 200 || request.method === 'HEAD'
        ? ''
        : `<Error><Code>${status === 403 ? 'AccessDenied' : 'InternalError'}</Code></Error>`,
    );
  }),
);
let port = 0;

beforeAll(async () => {
  port = await listenOnLoopback(server);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('AWS_ENDPOINT_URL_S3', `http://127.0.0.1:${port}`);
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

describe('the record of a termination, written through the S3 client after the DELETE', () => {
  it('PUTs one signed JSON object per session', async () => {
    await recordTerminated('inventory', ['abc123'], 'event-1');
    expect(received).toHaveLength(1);
    const [put] = received as [Received];
    expect(put.method).toBe('PUT');
    expect(put.url.split('?')[0]).toBe('/inventory/terminated/sessions/abc123.json');
    expect(put.headers['content-type']).toBe('application/json');
    expect(put.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request/,
    );
    expect(JSON.parse(put.body)).toMatchObject({ event_id: 'event-1' });
  });

  it("retries a 500 with the SDK's standard retries, and a later HEAD finds the session recorded (and not another)", async () => {
    statuses = [500];
    await recordTerminated('inventory', ['abc123'], 'event-1');
    expect(received.map((request) => request.method)).toEqual(['PUT', 'PUT']);
    const recorded = await terminatedAmong('inventory', ['abc123', 'def456']);
    expect([...recorded.keys()]).toEqual(['abc123']);
  });

  it('tries three times in all when the connection drops, and does not fail the termination for it', async () => {
    statuses = [0, 0, 0, 0];
    await expect(recordTerminated('inventory', ['abc123'], 'event-1')).resolves.toBe(1);
    expect(received.map((request) => request.method)).toEqual(['PUT', 'PUT', 'PUT']);
    expect(objects.size).toBe(0);
  });

  it('does not repeat a PUT S3 refused (403), and does not fail the termination for it', async () => {
    statuses = [403, 403];
    await expect(recordTerminated('inventory', ['abc123'], 'event-1')).resolves.toBe(1);
    expect(received.map((request) => request.method)).toEqual(['PUT']);
  });
});
