import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { type DynamoDbStandIn, startDynamoDbStandIn } from '../../infra/local/dynamodb.js';
import { type EventBridgeStandIn, startEventBridgeStandIn } from '../../infra/local/eventbridge.js';
import {
  type LocalPam,
  localAwsEnv,
  pamSecretString,
  randomCredentials,
  startLocalPam,
} from '../../infra/local/local-pam.js';
import { type S3StandIn, startS3StandIn } from '../../infra/local/s3.js';
import { type SecretsManagerStandIn, startSecretsManagerStandIn } from '../../infra/local/secrets-manager.js';
import type { SimulatedSession } from '../../infra/pam-simulator/seed-sessions.js';
import type { OAuth1Credentials } from '../../lib/pam/oauth1.js';

/** The stand-ins a bench child reaches on loopback, and the PAM secret it reads there. */
export interface BenchStack {
  credentials: OAuth1Credentials;
  secrets: SecretsManagerStandIn;
  eventBridge: EventBridgeStandIn;
  s3: S3StandIn;
  dynamodb?: DynamoDbStandIn;
  /** Points the secret at a PAM Core (a simulator) and returns the functions' variables for this stack. */
  serve(pamUrl: string): Record<string, string>;
  close(): Promise<void>;
}

const SECRET_ID = 'bench/pam';

/** Secrets Manager, EventBridge and S3 stand-ins (and DynamoDB, for the idempotency table), fresh credentials. */
export async function startBenchStack(options: { bucket: string; dynamodb?: boolean }): Promise<BenchStack> {
  const credentials = randomCredentials();
  const [secrets, eventBridge, s3, dynamodb] = await Promise.all([
    startSecretsManagerStandIn(),
    startEventBridgeStandIn(),
    startS3StandIn({ bucket: options.bucket }),
    options.dynamodb ? startDynamoDbStandIn() : undefined,
  ]);
  return {
    credentials,
    secrets,
    eventBridge,
    s3,
    ...(dynamodb ? { dynamodb } : {}),
    serve(pamUrl) {
      secrets.putSecret(SECRET_ID, pamSecretString(pamUrl, credentials));
      return localAwsEnv({ secretId: SECRET_ID, secrets, eventBridge, s3, ...(dynamodb ? { dynamodb } : {}) });
    },
    async close() {
      await Promise.all([secrets.close(), eventBridge.close(), s3.close(), dynamodb?.close()]);
    },
  };
}

/**
 * The functions' variables for a bench child against the stand-ins, quiet (errors only, no metrics),
 * and the same without the index, so the function has to read the live list.
 */
export function benchEnv(awsEnv: Record<string, string>): {
  env: Record<string, string>;
  noIndex: Record<string, string>;
} {
  const env = {
    ...awsEnv,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  return { env, noIndex: { ...env, EXPORT_BUCKET: '' } };
}

/**
 * The whole local stack in this process (simulator and stand-ins), its variables set on process.env
 * so that a bundle imported here finds them, at the given log level and without metrics.
 */
export async function startLocalPamHere(logLevel: 'WARN' | 'SILENT'): Promise<LocalPam> {
  const local = await startLocalPam();
  Object.assign(process.env, local.env, {
    POWERTOOLS_LOG_LEVEL: logLevel,
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  return local;
}

export interface SimulatorProcess {
  url: string;
  /** When each DELETE arrived, by session id. */
  drops: Map<string, number>;
  /** Every request, in order of arrival. */
  requests: Array<{ endpoint: string; path: string; receivedAt: number }>;
  /** Opens these sessions in the simulator (ids above the others). */
  open(sessions: SimulatedSession[]): Promise<void>;
  stop(): void;
}

/** The PAM Core simulator in its own process (its memory and CPU not counted with what is measured). */
export async function startSimulatorProcess(
  sessions: number,
  credentials: object,
  active?: number,
): Promise<SimulatorProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/pam-simulator/main.ts'], {
    env: {
      ...process.env,
      PAM_SIMULATOR_SESSIONS: String(sessions),
      ...(active === undefined ? {} : { PAM_SIMULATOR_ACTIVE: String(active) }),
      PAM_SIMULATOR_CREDENTIALS: JSON.stringify(credentials),
    },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const drops = new Map<string, number>();
  const requests: SimulatorProcess['requests'] = [];
  child.on('message', (message: { endpoint?: string; path: string; receivedAt: number }) => {
    if (message.endpoint === undefined) return;
    requests.push({ endpoint: message.endpoint, path: message.path, receivedAt: message.receivedAt });
    if (message.endpoint === 'drop') drops.set(message.path.split('/').pop() ?? '', message.receivedAt);
  });
  const [url] = (await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), 'line')) as [string];
  const open = async (sessions: SimulatedSession[]) => {
    const opened = new Promise<void>((resolve) => {
      const listener = (message: { opened?: number }) => {
        if (message.opened === undefined) return;
        child.off('message', listener);
        resolve();
      };
      child.on('message', listener);
    });
    child.send({ open: sessions });
    await opened;
  };
  return { url, drops, requests, open, stop: () => child.kill('SIGTERM') };
}
