import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_OBJECT_BYTES } from '../../lib/aws/object-body.js';
import { type SignedGet, signedGet, signedGetRoute, signedS3Get } from '../../lib/aws/signed-s3-get.js';

const KEY = 'index/active-sessions.json';
const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'ASIAEXAMPLEKEY',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEXAMPLETOKEN',
};
const SIGNED_AT = new Date('2026-12-07T02:15:30.000Z');

/** What the S3 client sends for the same GET, captured before it leaves, signed at the same instant. */
async function sdkRequest(env: NodeJS.ProcessEnv, bucket: string, ifNoneMatch?: string) {
  const saved = process.env;
  process.env = { ...env };
  vi.useFakeTimers({ toFake: ['Date'], now: SIGNED_AT });
  try {
    let captured: any;
    const client = new S3Client({
      requestHandler: {
        handle: async (request: unknown) => {
          captured = request;
          throw new Error('captured');
        },
        updateHttpClientConfig: () => undefined,
        httpHandlerConfigs: () => ({}),
      } as never,
      maxAttempts: 1,
    });
    await client
      .send(new GetObjectCommand({ Bucket: bucket, Key: KEY, ...(ifNoneMatch ? { IfNoneMatch: ifNoneMatch } : {}) }))
      .catch(() => undefined);
    return captured as {
      protocol: string;
      hostname: string;
      port?: number;
      path: string;
      headers: Record<string, string>;
    };
  } finally {
    vi.useRealTimers();
    process.env = saved;
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const hmac = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text).digest();

/** SigV4 computed here from AWS's specification, not by the signer the product uses: the signature S3 expects. */
function expectedSignature(request: SignedGet, secret: string, region: string): string {
  const authorization = request.headers.authorization ?? '';
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1] ?? '';
  const amzDate = request.headers['x-amz-date'] ?? '';
  const canonical = [
    'GET',
    request.path,
    '',
    ...signedHeaders.split(';').map((name) => `${name}:${String(request.headers[name]).trim()}`),
    '',
    signedHeaders,
    request.headers['x-amz-content-sha256'],
  ].join('\n');
  const scope = `${amzDate.slice(0, 8)}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${secret}`, amzDate.slice(0, 8));
  for (const part of [region, 's3', 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(toSign).digest('hex');
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('the index GET signed by hand sends what the S3 client sends', () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ['a bucket in eu-west-1', { AWS_REGION: 'eu-west-1' }, 'pam-inventory-prod'],
    ['a bucket in us-east-1', { AWS_REGION: 'us-east-1' }, 'pam-inventory-prod'],
    ['a bucket name with dots (path-style over https)', { AWS_REGION: 'sa-east-1' }, 'pam.inventory.prod'],
    ['an IP endpoint', { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569' }, 'bucket-one'],
    [
      'an IP endpoint with a path',
      { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: 'http://10.0.0.5:9000/s3/prefix' },
      'bucket-one',
    ],
    [
      'an IP endpoint with a path and a trailing slash',
      { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: 'https://10.0.0.5/s3/' },
      'bucket.with.dots',
    ],
    [
      'a generic endpoint (AWS_ENDPOINT_URL)',
      { AWS_REGION: 'eu-central-1', AWS_ENDPOINT_URL: 'http://192.0.2.7:4569' },
      'b-1',
    ],
  ];

  for (const [name, env, bucket] of cases) {
    for (const withToken of [true, false]) {
      it(`${name}${withToken ? '' : ', without a session token'}`, async () => {
        const all = {
          ...CREDENTIALS,
          ...(withToken ? {} : { AWS_SESSION_TOKEN: undefined }),
          ...env,
        } as Record<string, string>;
        const sdk = await sdkRequest(all, bucket, '"9b2cf535f27731c974343645a3985328"');
        const route = signedGetRoute(bucket, all);
        if (!route) throw new Error('refused a route the SDK serves');
        const mine = await signedGet(route, KEY, {
          ifNoneMatch: '"9b2cf535f27731c974343645a3985328"',
          signingDate: SIGNED_AT,
        });
        expect({ protocol: mine.protocol, hostname: mine.hostname, port: mine.port, path: mine.path }).toEqual({
          protocol: sdk.protocol,
          hostname: sdk.hostname,
          port: sdk.port,
          path: sdk.path,
        });
        for (const header of ['host', 'if-none-match', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token']) {
          expect(mine.headers[header], header).toBe(sdk.headers[header]);
        }
        expect(mine.headers['x-amz-content-sha256']).toBe(EMPTY_SHA256);
        const scope = (authorization: string | undefined) => /Credential=([^,]+)/.exec(authorization ?? '')?.[1];
        expect(scope(mine.headers.authorization)).toBe(scope(sdk.headers.authorization));
        const signature = /Signature=([0-9a-f]{64})$/.exec(mine.headers.authorization ?? '')?.[1];
        expect(signature).toBe(expectedSignature(mine, CREDENTIALS.AWS_SECRET_ACCESS_KEY, route.region));
        expect(mine.headers.authorization).toMatch(/SignedHeaders=host;if-none-match;x-amz-content-sha256;x-amz-date/);
      });
    }
  }

  const refused: Array<[string, Record<string, string>, string]> = [
    ['FIPS', { AWS_REGION: 'us-east-1', AWS_USE_FIPS_ENDPOINT: 'true' }, 'pam-inventory'],
    ['dual-stack', { AWS_REGION: 'us-east-1', AWS_USE_DUALSTACK_ENDPOINT: 'TRUE' }, 'pam-inventory'],
    ['China', { AWS_REGION: 'cn-north-1' }, 'pam-inventory'],
    ['GovCloud', { AWS_REGION: 'us-gov-west-1' }, 'pam-inventory'],
    [
      'a named custom endpoint',
      { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: 'https://s3.example.internal/base' },
      'b1b',
    ],
    ['localhost', { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: 'http://localhost:4569' }, 'pam-inventory'],
    ['an IPv6 endpoint', { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: 'http://[::1]:4569' }, 'pam-inventory'],
    ['an upper-case bucket name', { AWS_REGION: 'us-east-1' }, 'PamInventory'],
    ['a directory bucket', { AWS_REGION: 'us-east-1' }, 'pam--use1-az4--x-s3'],
    ['an access point alias', { AWS_REGION: 'us-east-1' }, 'pam-ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias'],
    ['a bucket named like an IP address', { AWS_REGION: 'us-east-1' }, '192.168.1.1'],
    ['no region', {}, 'pam-inventory'],
    [
      'configured endpoints ignored',
      {
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1',
        AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
      },
      'pam-inventory',
    ],
  ];
  for (const [name, env, bucket] of refused) {
    it(`leaves ${name} to the S3 client`, () => {
      expect(signedGetRoute(bucket, { ...CREDENTIALS, ...env })).toBeUndefined();
    });
  }

  it('leaves a process without credentials in its environment to the S3 client (its provider chain)', () => {
    expect(signedGetRoute('pam-inventory', { AWS_REGION: 'us-east-1' })).toBeUndefined();
    expect(signedGetRoute('pam-inventory', { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKID' })).toBeUndefined();
  });
});

describe("signedS3Get: S3's responses as the SDK reports them", () => {
  let server: ReturnType<typeof createServer> | undefined;
  afterEach(() => server?.close());

  async function s3(respond: (req: IncomingMessage, res: ServerResponse) => void) {
    const seen: IncomingMessage[] = [];
    server = createServer((req, res) => {
      seen.push(req);
      respond(req, res);
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const route = signedGetRoute('bucket-one', {
      ...CREDENTIALS,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
    });
    if (!route) throw new Error('no route');
    return { route, seen };
  }

  const xmlError = (code: string) => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code></Error>`;

  it('returns the body and ETag, sent path-style to the endpoint', async () => {
    const { route, seen } = await s3((_req, res) => {
      res.writeHead(200, { etag: '"abc"', 'last-modified': 'Mon, 07 Dec 2026 02:00:00 GMT' }).end('{"version":1}');
    });
    await expect(signedS3Get(route, KEY, { timeoutMs: 2_000 })).resolves.toEqual({
      etag: '"abc"',
      lastModified: new Date('2026-12-07T02:00:00Z'),
      body: '{"version":1}',
    });
    expect(seen.map((req) => req.url)).toEqual([`/bucket-one/${KEY}`]);
  });

  it('throws NotModified (304), NoSuchKey and AccessDenied by name, asking once', async () => {
    for (const [status, body, name] of [
      [304, '', 'NotModified'],
      [404, xmlError('NoSuchKey'), 'NoSuchKey'],
      [403, xmlError('AccessDenied'), 'AccessDenied'],
    ] as const) {
      const { route, seen } = await s3((_req, res) => res.writeHead(status).end(body));
      await expect(signedS3Get(route, KEY, { ifNoneMatch: '"abc"', timeoutMs: 2_000 })).rejects.toMatchObject({
        name,
        $metadata: { httpStatusCode: status },
      });
      expect(seen).toHaveLength(1);
      expect(seen[0]?.headers['if-none-match']).toBe('"abc"');
      server?.close();
    }
  });

  it("tries S3's 503 SlowDown again, three attempts in all, as the S3 client does", async () => {
    const { route, seen } = await s3((_req, res) => res.writeHead(503).end(xmlError('SlowDown')));
    await expect(signedS3Get(route, KEY, { timeoutMs: 5_000 })).rejects.toMatchObject({ name: 'SlowDown' });
    expect(seen).toHaveLength(3);
  });

  it('reads a body of exactly MAX_OBJECT_BYTES, and refuses one byte more once, without asking again', async () => {
    for (const [bytes, refused] of [
      [MAX_OBJECT_BYTES, false],
      [MAX_OBJECT_BYTES + 1, true],
    ] as const) {
      const { route, seen } = await s3((_req, res) => res.writeHead(200).end(Buffer.alloc(bytes, 0x61)));
      const read = signedS3Get(route, KEY, { timeoutMs: 20_000 });
      if (refused) await expect(read).rejects.toMatchObject({ name: 'ObjectTooLargeError' });
      else expect((await read).body).toHaveLength(bytes);
      expect(seen).toHaveLength(1);
      server?.close();
    }
  });

  it('refuses a body that declares more than MAX_OBJECT_BYTES at once, without waiting for it', async () => {
    const { route, seen } = await s3((_req, res) => {
      res.writeHead(200, { 'content-length': String(MAX_OBJECT_BYTES + 1) });
      res.write('{');
    });
    await expect(signedS3Get(route, KEY, { timeoutMs: 2_000 })).rejects.toMatchObject({ name: 'ObjectTooLargeError' });
    expect(seen).toHaveLength(1);
  });

  it('gives up when the time allowed is over', async () => {
    const { route } = await s3(() => undefined);
    await expect(signedS3Get(route, KEY, { timeoutMs: 200 })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
