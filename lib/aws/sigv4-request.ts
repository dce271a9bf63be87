import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { http, https } from '../core/node-http.js';
import { requestText, type TextResponse } from './text-request.js';

/**
 * What the requests lib/aws sends without an SDK client share: the SDK's own SigV4 signer, one per
 * service and credentials, hashing with node:crypto, keep-alive agents, and the signed send itself.
 */
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

const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

const agentFor = (url: URL) => (url.protocol === 'https:' ? agents.https : agents.http);

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
type SigningService = 's3' | 'events' | 'secretsmanager';
const signers = new Map<string, { key: string; signer: SignatureV4 }>();

/** The signer for `service`, kept while the credentials and region stay the same. S3 signs its path as given, with the payload's hash. */
function signerFor(service: SigningService, credentials: Credentials, region: string): SignatureV4 {
  const key = `${credentials.accessKeyId}\n${credentials.sessionToken ?? ''}\n${region}`;
  const held = signers.get(service);
  if (held?.key === key) return held.signer;
  const signer = new SignatureV4({
    service,
    region,
    credentials,
    sha256: Sha256,
    ...(service === 's3' ? { uriEscapePath: false, applyChecksum: true } : {}),
  });
  signers.set(service, { key, signer });
  return signer;
}

/**
 * One request signed for `service` with the environment's credentials and sent with Node's HTTP
 * client (keep-alive), its answer read whole, within `signal`. The path signed is `url`'s, as given.
 */
export async function sendSigned(
  service: SigningService,
  environment: { credentials: Credentials; region: string },
  url: URL,
  request: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal },
): Promise<TextResponse> {
  const { method, body, signal } = request;
  const payload = body === undefined ? {} : { body };
  const signed = await signerFor(service, environment.credentials, environment.region).sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    headers: {
      ...request.headers,
      host: url.host,
      ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
    },
    ...payload,
  });
  return requestText(url, { method, headers: signed.headers, ...payload, agent: agentFor(url), signal });
}

/**
 * The domain of a region's standard endpoints, for the partitions whose names are known here (aws,
 * aws-cn, aws-us-gov); undefined for any other partition: the SDK client, whose endpoint rules
 * know them, sends those requests.
 */
export function standardDomain(region: string): string | undefined {
  if (/^cn-[a-z]+-\d+$/.test(region)) return 'amazonaws.com.cn';
  if (/^(af|ap|ca|eu|il|me|mx|sa|us)-(gov-)?[a-z]+-\d+$/.test(region)) return 'amazonaws.com';
  return undefined;
}
