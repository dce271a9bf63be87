import { createServer } from 'node:http';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { closeServer, listenOnLoopback } from './loopback-server.js';

export interface SecretsExtensionStandIn {
  /** Give the function PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=<port>. */
  port: number;
  /** The requests it answered, and how many of them it had to ask Secrets Manager for. */
  readonly requests: number;
  readonly fetches: number;
  close(): Promise<void>;
}

/**
 * The AWS Parameters and Secrets Lambda Extension's local HTTP interface, on loopback: GET
 * /secretsmanager/get?secretId=… with the session token in X-Aws-Parameters-Secrets-Token answers
 * GetSecretValue's JSON, read from Secrets Manager (the stand-in at `secretsManagerUrl`) and kept
 * for `ttlSeconds`, as the extension's cache does (SECRETS_MANAGER_TTL, 300 s by default).
 */
export async function startSecretsExtensionStandIn(options: {
  secretsManagerUrl: string;
  sessionToken: string;
  ttlSeconds?: number;
  port?: number;
  /** Told of every secret it hands out. */
  onRead?: (secretId: string) => void;
}): Promise<SecretsExtensionStandIn> {
  const client = new SecretsManagerClient({
    endpoint: options.secretsManagerUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'extension', secretAccessKey: 'extension' },
  });
  const cache = new Map<string, { body: string; at: number }>();
  let requests = 0;
  let fetches = 0;
  const server = createServer((req, res) => {
    requests += 1;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const secretId = url.searchParams.get('secretId');
    if (url.pathname !== '/secretsmanager/get' || !secretId) {
      res.writeHead(400).end('secretId is required');
      return;
    }
    if (req.headers['x-aws-parameters-secrets-token'] !== options.sessionToken) {
      res.writeHead(401).end('missing or wrong X-Aws-Parameters-Secrets-Token');
      return;
    }
    const held = cache.get(secretId);
    if (held && Date.now() - held.at < (options.ttlSeconds ?? 300) * 1000) {
      options.onRead?.(secretId);
      res.writeHead(200, { 'content-type': 'application/json' }).end(held.body);
      return;
    }
    fetches += 1;
    client
      .send(new GetSecretValueCommand({ SecretId: secretId }))
      .then(({ $metadata, ...value }) => {
        const body = JSON.stringify(value);
        cache.set(secretId, { body, at: Date.now() });
        options.onRead?.(secretId);
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      })
      .catch((error: { name?: string; $metadata?: { httpStatusCode?: number } }) => {
        res.writeHead(error.$metadata?.httpStatusCode ?? 500).end(String(error.name));
      });
  });
  const port = await listenOnLoopback(server, options.port);
  return {
    port,
    get requests() {
      return requests;
    },
    get fetches() {
      return fetches;
    },
    close: async () => {
      client.destroy();
      await closeServer(server);
    },
  };
}
