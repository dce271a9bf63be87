import { environmentCredentials } from '../core/settings.js';
import { sendSigned, standardDomain } from './sigv4-request.js';

/**
 * Small S3 objects a termination reads before its DELETE (the index, a termination's record) and
 * writes after it (the records), signed by the SDK's own SigV4 signer and sent with Node's HTTP
 * client: the S3 client costs a cold start about 13 ms to import and about 25 ms on its first
 * request (endpoint rules, checksums), and a warm PutObject about 2 ms more than this path on the
 * local S3 (npm run bench -- critical). With no credentials in the environment (never on Lambda),
 * or for an endpoint only the SDK's rules know (FIPS, dual-stack, another partition), the S3 client sends it.
 */
export interface S3Read {
  status: number;
  etag: string | undefined;
  lastModified: Date | undefined;
  /** Empty for HEAD, 304 and errors. */
  body: string;
}

/** An S3 error by S3's name, as the SDK's would be (awsErrorName reads it). */
export class S3ObjectError extends Error {
  constructor(
    override readonly name: string,
    readonly status: number,
  ) {
    super(`S3 answered ${status} ${name}`);
  }
}

const NAMES: Record<number, string> = { 304: 'NotModified', 403: 'AccessDenied', 404: 'NoSuchKey' };

async function sdkRequest(
  method: 'GET' | 'HEAD' | 'PUT',
  bucket: string,
  key: string,
  options: ObjectRequest,
  abortSignal: AbortSignal,
): Promise<S3Read> {
  const [{ s3 }, { GetObjectCommand, HeadObjectCommand, PutObjectCommand }] = await Promise.all([
    import('./s3-client.js'),
    import('@aws-sdk/client-s3'),
  ]);
  const input = { Bucket: bucket, Key: key, ...(options.ifNoneMatch ? { IfNoneMatch: options.ifNoneMatch } : {}) };
  if (method === 'PUT') {
    const put = new PutObjectCommand({ ...input, Body: options.body, ContentType: options.contentType });
    const written = await s3.send(put, { abortSignal });
    return { status: 200, etag: written.ETag, lastModified: undefined, body: '' };
  }
  if (method === 'HEAD') {
    const head = await s3.send(new HeadObjectCommand(input), { abortSignal });
    return { status: 200, etag: head.ETag, lastModified: head.LastModified, body: '' };
  }
  const object = await s3.send(new GetObjectCommand(input), { abortSignal });
  const body = (await object.Body?.transformToString('utf8')) ?? '';
  return { status: 200, etag: object.ETag, lastModified: object.LastModified, body };
}

interface ObjectRequest {
  ifNoneMatch?: string;
  /** PUT only. */
  body?: string;
  contentType?: string;
  timeoutMs: number;
}

async function objectRequest(
  method: 'GET' | 'HEAD' | 'PUT',
  bucket: string,
  key: string,
  options: ObjectRequest,
): Promise<S3Read> {
  const abortSignal = AbortSignal.timeout(options.timeoutMs);
  const environment = environmentCredentials();
  const domain = environment && standardDomain(environment.region);
  if (!environment || (!environment.s3Endpoint && !domain))
    return sdkRequest(method, bucket, key, options, abortSignal);
  const path = `/${key.split('/').map(encodeURIComponent).join('/')}`;
  const url = environment.s3Endpoint
    ? new URL(`${environment.s3Endpoint.replace(/\/+$/, '')}/${bucket}${path}`)
    : new URL(`https://${bucket}.s3.${environment.region}.${domain}${path}`);
  const headers: Record<string, string> = {};
  if (options.ifNoneMatch) headers['if-none-match'] = options.ifNoneMatch;
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/octet-stream';
  const answer = await sendSigned('s3', environment, url, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: options.body }),
    signal: abortSignal,
  });
  if (answer.status !== 200) {
    const code = /<Code>([^<]+)<\/Code>/.exec(answer.body)?.[1];
    throw new S3ObjectError(code ?? NAMES[answer.status] ?? `Http${answer.status}`, answer.status);
  }
  const lastModified = answer.headers['last-modified'];
  return {
    status: answer.status,
    etag: answer.headers.etag,
    lastModified: lastModified ? new Date(lastModified) : undefined,
    body: method === 'GET' ? answer.body : '',
  };
}

/** GETs or HEADs an object, within `timeoutMs`; S3's refusals are thrown as S3ObjectError named as S3 names them. */
export function readS3Object(
  method: 'GET' | 'HEAD',
  bucket: string,
  key: string,
  options: { ifNoneMatch?: string; timeoutMs: number },
): Promise<S3Read> {
  return objectRequest(method, bucket, key, options);
}

/** PUTs a small object, within `timeoutMs`; S3's refusals are thrown as S3ObjectError. */
export async function putS3Object(
  bucket: string,
  key: string,
  body: string,
  options: { contentType: string; timeoutMs: number },
): Promise<void> {
  await objectRequest('PUT', bucket, key, { ...options, body });
}
