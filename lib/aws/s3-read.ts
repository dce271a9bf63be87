import { createHash, createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import { environmentCredentials } from '../core/settings.js';

/**
 * Small S3 reads (the index, a termination's record) on a termination's critical path, signed by
 * the SDK's own SigV4 signer and sent with Node's HTTP client: the S3 client costs a cold start
 * about 13 ms to import and about 25 ms on its first request (endpoint rules, checksums), which
 * this path does not pay (npm run bench -- critical). With no credentials in the environment (never
 * on Lambda), it falls back to the S3 client.
 */
export interface S3Read {
  status: number;
  etag: string | undefined;
  lastModified: Date | undefined;
  /** Empty for HEAD, 304 and errors. */
  body: string;
}

/** An S3 error by S3's name, as the SDK's would be (awsErrorName reads it). */
export class S3ReadError extends Error {
  constructor(
    override readonly name: string,
    readonly status: number,
  ) {
    super(`S3 answered ${status} ${name}`);
  }
}

type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: Data) =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** SHA-256 and HMAC-SHA256 from node:crypto, in the shape the signer takes. */
class Sha256 {
  private readonly hash;
  constructor(secret?: Data) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Data): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
let signer: { key: string; signer: SignatureV4 } | undefined;

function signerFor(
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  region: string,
) {
  const key = `${credentials.accessKeyId}\n${credentials.sessionToken ?? ''}\n${region}`;
  if (signer?.key !== key) {
    signer = {
      key,
      signer: new SignatureV4({
        service: 's3',
        region,
        credentials,
        sha256: Sha256,
        uriEscapePath: false,
        applyChecksum: true,
      }),
    };
  }
  return signer.signer;
}

const NAMES: Record<number, string> = { 304: 'NotModified', 403: 'AccessDenied', 404: 'NoSuchKey' };

async function sdkRead(
  method: 'GET' | 'HEAD',
  bucket: string,
  key: string,
  ifNoneMatch: string | undefined,
  abortSignal: AbortSignal,
): Promise<S3Read> {
  const [{ s3 }, { GetObjectCommand, HeadObjectCommand }] = await Promise.all([
    import('./s3-client.js'),
    import('@aws-sdk/client-s3'),
  ]);
  const input = { Bucket: bucket, Key: key, ...(ifNoneMatch ? { IfNoneMatch: ifNoneMatch } : {}) };
  if (method === 'HEAD') {
    const head = await s3.send(new HeadObjectCommand(input), { abortSignal });
    return { status: 200, etag: head.ETag, lastModified: head.LastModified, body: '' };
  }
  const object = await s3.send(new GetObjectCommand(input), { abortSignal });
  const body = (await object.Body?.transformToString('utf8')) ?? '';
  return { status: 200, etag: object.ETag, lastModified: object.LastModified, body };
}

/** GETs or HEADs an object, within `timeoutMs`; S3's refusals are thrown as S3ReadError named as S3 names them. */
export async function readS3Object(
  method: 'GET' | 'HEAD',
  bucket: string,
  key: string,
  options: { ifNoneMatch?: string; timeoutMs: number },
): Promise<S3Read> {
  const abortSignal = AbortSignal.timeout(options.timeoutMs);
  const environment = environmentCredentials();
  if (!environment) return sdkRead(method, bucket, key, options.ifNoneMatch, abortSignal);
  const path = `/${key.split('/').map(encodeURIComponent).join('/')}`;
  const url = environment.s3Endpoint
    ? new URL(`${environment.s3Endpoint.replace(/\/+$/, '')}/${bucket}${path}`)
    : new URL(`https://${bucket}.s3.${environment.region}.amazonaws.com${path}`);
  const signed = await signerFor(environment.credentials, environment.region).sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    headers: { host: url.host, ...(options.ifNoneMatch ? { 'if-none-match': options.ifNoneMatch } : {}) },
  });
  const secure = url.protocol === 'https:';
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const request = (secure ? httpsRequest : httpRequest)(
      url,
      { method, headers: signed.headers, agent: secure ? agents.https : agents.http, signal: abortSignal },
      resolve,
    );
    request.on('error', reject);
    request.end();
  });
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  const status = response.statusCode ?? 0;
  if (status !== 200) {
    const code = /<Code>([^<]+)<\/Code>/.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
    throw new S3ReadError(code ?? NAMES[status] ?? `Http${status}`, status);
  }
  const lastModified = response.headers['last-modified'];
  return {
    status,
    etag: response.headers.etag,
    lastModified: lastModified ? new Date(lastModified) : undefined,
    body: method === 'GET' ? Buffer.concat(chunks).toString('utf8') : '',
  };
}
