import { randomUUID } from 'node:crypto';
import { awsError, closeServer, createAwsJsonServer, listenOnLoopback } from './loopback-server.js';

export interface SecretsManagerStandIn {
  /** Point the AWS SDK here with AWS_ENDPOINT_URL_SECRETS_MANAGER. */
  url: string;
  /** How many GetSecretValue calls it answered. */
  readonly reads: number;
  putSecret(name: string, secretString: string): void;
  /** Answers the next GetSecretValue calls with this AWS error (e.g. "ThrottlingException"). */
  failNext(errorType: string, times?: number): void;
  /** Forgets the failures still queued. */
  clearFailures(): void;
  close(): Promise<void>;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

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

  const server = createAwsJsonServer({
    'secretsmanager.GetSecretValue': ({ SecretId }) => {
      reads += 1;
      const failure = failures.shift();
      if (failure) return awsError(failure, `Simulated ${failure}`, failure === 'InternalServiceError' ? 500 : 400);
      const name = [...secrets.keys()].find((key) => key === SecretId || arnOf(key) === SecretId);
      const secret = name === undefined ? undefined : secrets.get(name);
      if (name === undefined || secret === undefined) {
        return awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      }
      return {
        status: 200,
        body: {
          ARN: arnOf(name),
          Name: name,
          SecretString: secret.value,
          VersionId: secret.versionId,
          VersionStages: ['AWSCURRENT'],
          CreatedDate: secret.created,
        },
      };
    },
  });
  const port = await listenOnLoopback(server);

  return {
    url: `http://127.0.0.1:${port}`,
    get reads() {
      return reads;
    },
    putSecret,
    failNext(errorType, times = 1) {
      for (let i = 0; i < times; i += 1) failures.push(errorType);
    },
    clearFailures() {
      failures.length = 0;
    },
    close: () => closeServer(server),
  };
}
