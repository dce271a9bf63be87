import type { Agent as HttpAgent, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { http, https } from '../core/node-http.js';

/** A small answer, read whole. */
export interface TextResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One request over Node's HTTP client, its answer read whole, within `signal` (connection,
 * headers and body): for the small objects and values lib/aws reads and writes without an SDK
 * client. Rejects with what Node's client throws; any status resolves.
 */
export async function requestText(
  url: URL,
  options: {
    method: string;
    headers: Record<string, string>;
    body?: string;
    agent: HttpAgent | HttpsAgent | false;
    signal: AbortSignal;
  },
): Promise<TextResponse> {
  const { body, ...requestOptions } = options;
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https.request : http.request)(url, requestOptions, resolve);
    request.on('error', reject);
    request.end(body);
  });
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') };
}
