import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretsManagerStandIn {
  /** Point the AWS SDK here with AWS_ENDPOINT_URL_SECRETS_MANAGER. */
  url: string;
  /** How many GetSecretValue calls it answered. */
  readonly reads: number;
  putSecret(name: string, secretString: string): void;
  /** Answers the next GetSecretValue calls with this AWS error (e.g. "ThrottlingException"). */
  failNext(errorType: string, times?: number): void;
  close(): Promise<void>;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

const errorStatus: Record<string, number> = {
  ThrottlingException: 400,
  AccessDeniedException: 400,
  ResourceNotFoundException: 400,
  InternalServiceError: 500,
};

/**
 * Speaks just enough of the Secrets Manager JSON protocol (GetSecretValue) on loopback for the
 * real AWS SDK client to run against it, locally and in tests. No request signature is checked.
 */
export async function startSecretsManagerStandIn(initial: Record<string, string> = {}): Promise<SecretsManagerStandIn> {
  const secrets = new Map<string, { value: string; versionId: string; created: number }>();
  const failures: string[] = [];
  let reads = 0;

  const arnOf = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;
  const putSecret = (name: string, value: string) =>
    secrets.set(name, { value, versionId: randomUUID(), created: Math.floor(Date.now() / 1000) });
  for (const [name, value] of Object.entries(initial)) putSecret(name, value);

  function reply(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify(body));
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string) {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target !== 'secretsmanager.GetSecretValue') {
      reply(res, 400, { __type: 'UnknownOperationException', message: `${target} is not supported by the stand-in` });
      return;
    }
    reads += 1;
    const failure = failures.shift();
    if (failure) {
      reply(res, errorStatus[failure] ?? 400, { __type: failure, message: `Simulated ${failure}` });
      return;
    }
    const { SecretId } = JSON.parse(raw || '{}') as { SecretId?: string };
    const name = [...secrets.keys()].find((key) => key === SecretId || arnOf(key) === SecretId);
    const secret = name === undefined ? undefined : secrets.get(name);
    if (name === undefined || secret === undefined) {
      reply(res, 400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      return;
    }
    reply(res, 200, {
      ARN: arnOf(name),
      Name: name,
      SecretString: secret.value,
      VersionId: secret.versionId,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: secret.created,
    });
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get reads() {
      return reads;
    },
    putSecret,
    failNext(errorType, times = 1) {
      for (let i = 0; i < times; i += 1) failures.push(errorType);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
