import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { readBody } from '../../infra/local/loopback-server.js';

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

export interface SignedRequest {
  method: string;
  /** The path as sent, still percent-encoded. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

export interface GatewayReply {
  statusCode: number;
  body: string;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
/** API Gateway refuses a request signed more than this long ago (or ahead). */
const MAX_SKEW_MS = 5 * 60_000;

const refused = (message: string): GatewayReply => ({ statusCode: 403, body: JSON.stringify({ message }) });

function amzDate(text: string | undefined): Date | undefined {
  const parts = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? '');
  return parts ? new Date(`${parts[1]}-${parts[2]}-${parts[3]}T${parts[4]}:${parts[5]}:${parts[6]}Z`) : undefined;
}

/**
 * Checks a request as API Gateway's IAM authorizer does: the signature is computed again, by the AWS
 * SDK's own signer (@smithy/signature-v4), over the headers the client says it signed, the path, the
 * query, the body and the date, with the secret this side knows; the key, token, region, service and
 * clock must be the expected ones. Answers undefined when it holds, else the 403 API Gateway would give.
 */
export async function verifySigV4(
  request: SignedRequest,
  expected: SigV4Credentials & { region: string; host: string },
): Promise<GatewayReply | undefined> {
  const authorization = request.headers.authorization;
  if (!authorization) return refused('Missing Authentication Token');
  const parts = AUTHORIZATION.exec(authorization);
  if (!parts) return refused(`Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'`);
  const [, accessKeyId, day, region, service, signedHeaderList = '', signature] = parts;
  const signedHeaders = signedHeaderList.split(';');
  const token = request.headers['x-amz-security-token'];
  if (accessKeyId !== expected.accessKeyId || token !== expected.sessionToken) {
    return refused('The security token included in the request is invalid.');
  }
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) {
    return refused('Host and X-Amz-Date must be signed.');
  }
  if (request.headers.host !== expected.host) return refused(`Host ${request.headers.host} is not this API.`);
  if (region !== expected.region || service !== 'execute-api') {
    return refused(`Credential should be scoped to a valid region and to execute-api, not ${region}/${service}.`);
  }
  const signingDate = amzDate(request.headers['x-amz-date']);
  if (!signingDate || Math.abs(Date.now() - signingDate.getTime()) > MAX_SKEW_MS) {
    return refused('Signature expired or not yet current (X-Amz-Date).');
  }
  if (request.headers['x-amz-date']?.slice(0, 8) !== day) return refused('Credential date is not X-Amz-Date.');

  const signer = new SignatureV4({
    service: 'execute-api',
    region: expected.region,
    credentials: {
      accessKeyId: expected.accessKeyId,
      secretAccessKey: expected.secretAccessKey,
      sessionToken: expected.sessionToken,
    },
    sha256: Sha256,
    // execute-api does not want x-amz-content-sha256: the signer would add and sign it.
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'https:',
      hostname: expected.host,
      // As sent: the signer encodes it once more, as SigV4 wants for services other than S3.
      path: request.path,
      query: request.query,
      headers: Object.fromEntries(signedHeaders.map((name) => [name, request.headers[name] ?? ''])),
      body: request.body,
    },
    { signingDate },
  );
  const recomputed = AUTHORIZATION.exec(String(signed.headers.authorization));
  if (recomputed?.[5] !== signedHeaderList || recomputed?.[6] !== signature) {
    return refused(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return undefined;
}

async function readRequest(req: IncomingMessage): Promise<SignedRequest> {
  const body = await readBody(req);
  const url = new URL(req.url ?? '/', 'https://gateway.invalid');
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: Object.fromEntries(
      Object.entries(req.headers).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(',') : String(value),
      ]),
    ),
    body,
  };
}

export interface SigV4Gateway {
  port: number;
  /** Every request that arrived, with what the gateway answered. */
  requests: Array<SignedRequest & { statusCode: number }>;
  close(): Promise<void>;
}

/**
 * An HTTPS stand-in for API Gateway with the IAM authorizer, on loopback: a request whose signature does
 * not hold is answered 403, as API Gateway would; one that does is passed to `route`.
 */
export async function startSigV4Gateway(options: {
  tls: { key: string; cert: string };
  expected: SigV4Credentials & { region: string; host: string };
  route: (request: SignedRequest) => Promise<GatewayReply>;
}): Promise<SigV4Gateway> {
  const requests: SigV4Gateway['requests'] = [];
  const server = createServer(options.tls, (req, res) => {
    void (async () => {
      const request = await readRequest(req);
      const reply = (await verifySigV4(request, options.expected)) ?? (await options.route(request));
      requests.push({ ...request, statusCode: reply.statusCode });
      res.writeHead(reply.statusCode, { 'content-type': 'application/json' });
      res.end(reply.body);
    })().catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
