import type { IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { http, https } from '../core/node-http.js';
import type { RequestTarget } from './request-target.js';

/**
 * Node's own HTTP client with keep-alive agents, not undici: the AWS SDK loads node:http and
 * node:https already, and undici's import costs about 50 ms of every cold start, against about
 * 0.014 ms per warm request (p50 0.047 vs 0.061 ms on loopback, Node 22; npm run bench).
 */
const KEEP_ALIVE_MS = 30_000;

export interface PamResponse {
  statusCode: number;
  contentType: string | undefined;
  /** Read as it arrives; destroy it to stop early and release the connection. */
  body: IncomingMessage;
  /** Whether the request's time ran out (a body cut by it then reads as "aborted"). */
  timedOut(): boolean;
}

export interface PamRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Until the whole answer is in: connection, headers and body. */
  timeoutMs: number;
  caCertificate: string | undefined;
}

const httpAgent = new http.Agent({ keepAlive: true, keepAliveMsecs: KEEP_ALIVE_MS });
let tlsPool: { caCertificate: string | undefined; agent: HttpsAgent } | undefined;

/**
 * The one TLS pool of this container, reused across warm invocations (and its TLS sessions). A
 * private CA from the secret is trusted in addition to the system CAs; verification itself is
 * never relaxed. When the secret brings a different CA, the pool is replaced.
 */
function httpsAgent(caCertificate: string | undefined): HttpsAgent {
  if (tlsPool && tlsPool.caCertificate === caCertificate) return tlsPool.agent;
  tlsPool?.agent.destroy();
  const agent = new https.Agent({
    keepAlive: true,
    keepAliveMsecs: KEEP_ALIVE_MS,
    ...(caCertificate === undefined ? {} : { ca: [...rootCertificates, caCertificate] }),
  });
  tlsPool = { caCertificate, agent };
  return agent;
}

/**
 * Sends one request; resolves once the status and headers are in, with the body still to read.
 * The time limit covers connection, headers and body: when it runs out, the request is destroyed
 * with a TimeoutError (a plain timer: an AbortSignal cost a warm drop about 10 µs before its DELETE).
 */
export function send(target: RequestTarget, options: PamRequest): Promise<PamResponse> {
  const secure = target.http.protocol === 'https:';
  let timedOut = false;
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(
      {
        ...target.http,
        method: options.method,
        headers:
          options.body === undefined
            ? options.headers
            : { ...options.headers, 'content-length': Buffer.byteLength(options.body) },
        agent: secure ? httpsAgent(options.caCertificate) : httpAgent,
      },
      (response) => {
        const contentType = response.headers['content-type'];
        resolve({ statusCode: response.statusCode ?? 0, contentType, body: response, timedOut: () => timedOut });
      },
    );
    const timer = setTimeout(() => {
      timedOut = true;
      request.destroy(new DOMException(`no answer within ${options.timeoutMs} ms`, 'TimeoutError'));
    }, options.timeoutMs).unref();
    // The answer read in full, or the request given up: nothing is left to time.
    request.once('close', () => clearTimeout(timer));
    request.on('error', reject);
    request.end(options.body);
  });
}

/** The body as text, up to `maxBytes` (undefined past it: the body is then destroyed, not read on). */
export async function readText(
  body: IncomingMessage,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
