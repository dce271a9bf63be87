import type { IncomingMessage } from 'node:http';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import pRetry, { AbortError } from 'p-retry';
import { http, https } from '../core/node-http.js';
import { type AwsSdkEnvironment, awsSdkEnvironment } from '../core/settings.js';
import { ObjectTooLargeError, readObjectBody } from './object-body.js';

/** Small S3 objects: the index a termination reads, the records it writes. */
export interface S3Read {
  etag: string | undefined;
  lastModified: Date | undefined;
  /** Empty for HEAD. */
  body: string;
}

/**
 * The one request signed by hand: the index's GET, on a cold start's critical path, where loading
 * and first using the S3 client cost more than 1.5× the floor in every bench run (docs/bench.md).
 * It serves only the endpoints whose URL it is proven to build as the SDK does
 * (test/unit/signed-s3-get.test.ts); everything else (FIPS, dual-stack, other partitions, a named
 * custom endpoint, bucket names the SDK treats specially, no credentials in the environment) goes
 * through the S3 client.
 */
export interface SignedGetRoute {
  protocol: 'https:' | 'http:';
  hostname: string;
  port: number | undefined;
  /** The path before the key: '' (virtual-hosted) or '/<bucket>' after the endpoint's own path. */
  prefix: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** The standard AWS partition's regions (not China, GovCloud or the isolated ones). */
const AWS_PARTITION_REGION = /^(?!us-gov-|cn-|us-iso)[a-z]{2}-[a-z]+-\d{1,2}$/;
/** A bucket the SDK addresses as `<bucket>.s3.<region>.amazonaws.com` (no dots, no special suffixes). */
const VIRTUAL_HOSTED = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
/** A legal bucket name with dots: the SDK sends it path-style over https. */
const DOTTED = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SPECIAL = /^xn--|^sthree-|--x-s3$|--ol-s3$|-s3alias$|\.\.|^\d+\.\d+\.\d+\.\d+$/;
const IPV4_HOST = /^\d{1,3}(\.\d{1,3}){3}$/;
/** As the S3 client's own retries: a lost connection or S3's 5xx / throttling is tried again. */
const ATTEMPTS = 3;

const enabled = (value: string | undefined) => value?.trim().toLowerCase() === 'true';

/** Where the signed GET goes for this bucket, or undefined when the SDK must send it. */
export function signedGetRoute(
  bucket: string,
  env: AwsSdkEnvironment = awsSdkEnvironment(),
): SignedGetRoute | undefined {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN } = env;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!accessKeyId || !secretAccessKey || !region || !AWS_PARTITION_REGION.test(region)) return undefined;
  if (enabled(env.AWS_USE_FIPS_ENDPOINT) || enabled(env.AWS_USE_DUALSTACK_ENDPOINT)) return undefined;
  if (enabled(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)) return undefined;
  if (SPECIAL.test(bucket) || !DOTTED.test(bucket)) return undefined;
  const credentials = {
    accessKeyId,
    secretAccessKey,
    ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}),
  };
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  if (endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      return undefined;
    }
    // Only an IPv4 address: the SDK then always goes path-style, after the endpoint's own path.
    if (!IPV4_HOST.test(url.hostname) || (url.protocol !== 'http:' && url.protocol !== 'https:')) return undefined;
    if (url.search !== '' || url.hash !== '' || url.username !== '') return undefined;
    return {
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      prefix: `${url.pathname.replace(/\/$/, '')}/${bucket}`,
      region,
      credentials,
    };
  }
  const virtual = VIRTUAL_HOSTED.test(bucket);
  return {
    protocol: 'https:',
    hostname: virtual ? `${bucket}.s3.${region}.amazonaws.com` : `s3.${region}.amazonaws.com`,
    port: undefined,
    prefix: virtual ? '' : `/${bucket}`,
    region,
    credentials,
  };
}

/** A key's path as S3 and the SDK write it: each segment percent-encoded, slashes kept. */
function keyPath(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}

export interface SignedGet {
  method: 'GET';
  protocol: string;
  hostname: string;
  port: number | undefined;
  path: string;
  headers: Record<string, string>;
}

/** The GET, signed (SigV4, service s3, an empty payload's hash): what signedS3Get sends. */
export async function signedGet(
  route: SignedGetRoute,
  key: string,
  options: { ifNoneMatch?: string; signingDate?: Date } = {},
): Promise<SignedGet> {
  const hostHeader = route.port === undefined ? route.hostname : `${route.hostname}:${route.port}`;
  const signer = new SignatureV4({
    service: 's3',
    region: route.region,
    credentials: route.credentials,
    sha256: Sha256,
    // S3 signs the path as sent, not encoded a second time.
    uriEscapePath: false,
  });
  const signed = await signer.sign(
    {
      method: 'GET',
      protocol: route.protocol,
      hostname: route.hostname,
      ...(route.port === undefined ? {} : { port: route.port }),
      path: `${route.prefix}/${keyPath(key)}`,
      query: {},
      headers: {
        host: hostHeader,
        ...(options.ifNoneMatch ? { 'if-none-match': options.ifNoneMatch } : {}),
      },
    },
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  return {
    method: 'GET',
    protocol: route.protocol,
    hostname: route.hostname,
    port: route.port,
    path: signed.path,
    headers: Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), value])),
  };
}

/** S3's error as the SDK raises it: named after S3's code, with the HTTP status in $metadata. */
class S3ResponseError extends Error {
  readonly $metadata: { httpStatusCode: number };
  readonly $fault: 'client' | 'server';
  constructor(name: string, status: number, message: string) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
    this.$fault = status >= 500 ? 'server' : 'client';
  }
}

const STATUS_NAMES: Record<number, string> = { 304: 'NotModified', 403: 'Forbidden', 404: 'NotFound' };

function errorOf(status: number, body: string): S3ResponseError {
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(body)?.[1] ?? STATUS_NAMES[status] ?? `Http${status}`;
  return new S3ResponseError(code, status, `S3 answered ${status} ${code}`);
}

async function send(request: SignedGet, signal: AbortSignal): Promise<S3Read> {
  const client = request.protocol === 'https:' ? https : http;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const { method, hostname, port, path, headers } = request;
    const req = client.request({ method, hostname, port, path, headers, signal }, resolve);
    req.on('error', reject);
    req.end();
  });
  const body = await readObjectBody(res, Number(res.headers['content-length'] ?? 0), "S3's body");
  const status = res.statusCode ?? 0;
  if (status !== 200) throw errorOf(status, body);
  const lastModified = res.headers['last-modified'];
  return { etag: res.headers.etag, lastModified: lastModified ? new Date(lastModified) : undefined, body };
}

/**
 * GETs the object over the signed route, within `timeoutMs` for every attempt together; S3's
 * refusals are thrown as the SDK names them (NoSuchKey, NotModified for a matching ETag, AccessDenied…).
 */
export async function signedS3Get(
  route: SignedGetRoute,
  key: string,
  options: { ifNoneMatch?: string; timeoutMs: number },
): Promise<S3Read> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  return pRetry(
    async () => {
      try {
        return await send(await signedGet(route, key, options), signal);
      } catch (error) {
        if (error instanceof ObjectTooLargeError) throw new AbortError(error);
        const status = (error as Partial<S3ResponseError>).$metadata?.httpStatusCode;
        const retryable = status === undefined ? !signal.aborted : status >= 500 || status === 429;
        if (!retryable) throw new AbortError(error as Error);
        throw error;
      }
    },
    { retries: ATTEMPTS - 1, minTimeout: 50, factor: 2, randomize: true, signal },
  );
}
