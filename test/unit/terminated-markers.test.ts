import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeServer, listenOnLoopback } from '../../infra/local/loopback-server.js';
import { rememberTerminated, terminatedAmong } from '../../lib/inventory/terminated-markers.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback S3 that answers each request with the next status of `statuses` (then 200). */
const received: Received[] = [];
let statuses: number[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    received.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    });
    const status = statuses.shift() ?? 200;
    res.writeHead(status, { 'last-modified': new Date().toUTCString(), etag: '"e"' });
    res.end(status === 200 ? '' : `<Error><Code>${status === 403 ? 'AccessDenied' : 'InternalError'}</Code></Error>`);
  });
});

beforeAll(async () => {
  const port = await listenOnLoopback(server);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
  vi.stubEnv('AWS_SESSION_TOKEN', 'token-for-the-test');
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('AWS_ENDPOINT_URL_S3', `http://127.0.0.1:${port}`);
});
afterEach(() => {
  received.length = 0;
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
    expect(put.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=[a-z0-9;-]*content-type[a-z0-9;-]*host[a-z0-9;-]*x-amz-content-sha256/,
    );
    expect(JSON.parse(put.body)).toMatchObject({ event_id: 'event-1' });
  });

  it('tries once more after a 500, and a later HEAD finds the session recorded', async () => {
    statuses = [500];
    await rememberTerminated('inventory', ['abc123'], 'event-1');
    expect(received.map((request) => request.method)).toEqual(['PUT', 'PUT']);
    const recorded = await terminatedAmong('inventory', ['abc123']);
    expect([...recorded.keys()]).toEqual(['abc123']);
  });

  it('does not repeat a PUT S3 refused (403), and does not fail the termination for it', async () => {
    statuses = [403, 403];
    await expect(rememberTerminated('inventory', ['abc123'], 'event-1')).resolves.toBeUndefined();
    expect(received.map((request) => request.method)).toEqual(['PUT']);
  });
});
