import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { http, https } from '../core/node-http.js';

/**
 * What the requests lib/aws sends without an SDK client share: the SDK's own SigV4 signer, one per
 * service and credentials, hashing with node:crypto, and keep-alive agents.
 */
type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: Data) =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** SHA-256 and HMAC-SHA256 from node:crypto, in the shape the signer takes. */
export class Sha256 {
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

export const agentFor = (url: URL) => (url.protocol === 'https:' ? agents.https : agents.http);

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const signers = new Map<string, { key: string; signer: SignatureV4 }>();

/** The signer for `service`, kept while the credentials and region stay the same. S3 signs its path as given, with the payload's hash. */
export function signerFor(
  service: 's3' | 'events' | 'secretsmanager',
  credentials: Credentials,
  region: string,
): SignatureV4 {
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
 * The domain of a region's standard endpoints, for the partitions whose names are known here (aws,
 * aws-cn, aws-us-gov); undefined for any other partition: the SDK client, whose endpoint rules
 * know them, sends those requests.
 */
export function standardDomain(region: string): string | undefined {
  if (/^cn-[a-z]+-\d+$/.test(region)) return 'amazonaws.com.cn';
  if (/^(af|ap|ca|eu|il|me|mx|sa|us)-(gov-)?[a-z]+-\d+$/.test(region)) return 'amazonaws.com';
  return undefined;
}
