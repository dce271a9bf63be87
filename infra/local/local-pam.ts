import { randomBytes } from 'node:crypto';
import type { OAuth1Credentials } from '../../lib/pam/oauth1.js';
import { type PamSimulator, type PamSimulatorOptions, startPamSimulator } from '../pam-simulator/server.js';
import { type DynamoDbStandIn, startDynamoDbStandIn } from './dynamodb.js';
import { type EventBridgeStandIn, type PublishedEvent, startEventBridgeStandIn } from './eventbridge.js';
import { type S3StandIn, startS3StandIn } from './s3.js';
import { type SchedulerStandIn, startSchedulerStandIn } from './scheduler.js';
import { type SecretsManagerStandIn, startSecretsManagerStandIn } from './secrets-manager.js';
import { type FindingUpdate, type SecurityHubStandIn, startSecurityHubStandIn } from './security-hub.js';
import { type PublishedNotice, type SnsStandIn, startSnsStandIn } from './sns.js';

export interface LocalPam {
  pam: PamSimulator;
  secrets: SecretsManagerStandIn;
  eventBridge: EventBridgeStandIn;
  s3: S3StandIn;
  /** The alarm topic: what the drop tells a human (a termination blocked by the cap). */
  sns: SnsStandIn;
  /** Where the drop writes its outcome back to Security Hub findings. */
  securityHub: SecurityHubStandIn;
  /** The idempotency table: what each trigger's first handling responded. */
  dynamodb: DynamoDbStandIn;
  /** Where quarantines schedule their reactivation (docs/containment.md). */
  scheduler: SchedulerStandIn;
  secretId: string;
  credentials: OAuth1Credentials;
  /** The variables under which the unchanged functions find the secret, and through it the simulator. */
  env: Record<string, string>;
  close(): Promise<void>;
}

const issued: string[] = [];

/** Every credential this process made, so tests can check none of them ever reaches a log. */
export function issuedCredentialValues(): readonly string[] {
  return issued;
}

export function randomCredentials(): OAuth1Credentials {
  const token = () => randomBytes(16).toString('hex');
  const credentials = { consumerKey: token(), consumerSecret: token(), tokenKey: token(), tokenSecret: token() };
  issued.push(...Object.values(credentials));
  return credentials;
}

/** The variables under which the unchanged functions find their secret, bus and bucket in the stand-ins. */
export function localAwsEnv(stack: {
  secretId: string;
  secrets: SecretsManagerStandIn;
  eventBridge: EventBridgeStandIn;
  s3: S3StandIn;
  sns?: SnsStandIn;
  securityHub?: SecurityHubStandIn;
  dynamodb?: DynamoDbStandIn;
  scheduler?: SchedulerStandIn;
}): Record<string, string> {
  return {
    PAM_SECRET_ID: stack.secretId,
    AWS_REGION: 'us-east-1',
    // s3rver accepts only its own key pair; the other stand-ins check no signature.
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: stack.secrets.url,
    AWS_ENDPOINT_URL_EVENTBRIDGE: stack.eventBridge.url,
    AWS_ENDPOINT_URL_S3: stack.s3.url,
    EXPORT_BUCKET: stack.s3.bucket,
    // Tests and benches run the indexer when they need an index: one update a call, not one every 30 s.
    INDEX_UPDATES_PER_MINUTE: '1',
    ...(stack.sns ? { AWS_ENDPOINT_URL_SNS: stack.sns.url, ALARM_TOPIC_ARN: stack.sns.topicArn } : {}),
    ...(stack.securityHub ? { AWS_ENDPOINT_URL_SECURITYHUB: stack.securityHub.url } : {}),
    ...(stack.dynamodb
      ? { AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodb.url, IDEMPOTENCY_TABLE: stack.dynamodb.table }
      : {}),
    ...(stack.scheduler
      ? {
          AWS_ENDPOINT_URL_SCHEDULER: stack.scheduler.url,
          REACTIVATION_SCHEDULE_GROUP: 'pam-session-responder-local',
          REACTIVATION_SCHEDULE_ROLE_ARN: 'arn:aws:iam::000000000000:role/pam-session-responder-local-reactivation',
          REACTIVATION_TARGET_ARN: LOCAL_REACTIVATION_TARGET,
        }
      : {}),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** The function a local schedule invokes when a quarantine ends. */
export const LOCAL_REACTIVATION_TARGET =
  'arn:aws:lambda:us-east-1:000000000000:function:pam-session-responder-local-credentials';

/** The secret's JSON as an operator stores it in Secrets Manager. */
export function pamSecretString(
  baseUrl: string,
  credentials: OAuth1Credentials,
  extra: Record<string, string> = {},
): string {
  return JSON.stringify({
    base_url: baseUrl,
    consumer_key: credentials.consumerKey,
    consumer_secret: credentials.consumerSecret,
    token_key: credentials.tokenKey,
    token_secret: credentials.tokenSecret,
    ...extra,
  });
}

/**
 * Starts the PAM Core simulator, a Secrets Manager stand-in holding its (fresh, random) OAuth
 * credentials, an EventBridge stand-in receiving the audit trail, an S3 server for the
 * inventory and a DynamoDB server for the idempotency table, all on loopback.
 */
export async function startLocalPam(
  options: Partial<Omit<PamSimulatorOptions, 'credentials'>> & {
    secretId?: string;
    eventBridgePort?: number;
    s3Port?: number;
    onAuditEvent?: (event: PublishedEvent) => void;
    onAlarm?: (notice: PublishedNotice) => void;
    onFindingUpdate?: (update: FindingUpdate) => void;
    securityHubPort?: number;
    dynamoDbPort?: number;
    /** Runs a due schedule's target (the credentials function); with schedulerTickMs, due schedules fire by themselves. */
    invokeSchedule?: (targetArn: string, input: unknown) => Promise<unknown>;
    schedulerTickMs?: number;
    schedulerPort?: number;
  } = {},
): Promise<LocalPam> {
  const credentials = randomCredentials();
  const {
    secretId = 'pam-session-responder/local',
    eventBridgePort,
    s3Port,
    onAuditEvent,
    onAlarm,
    onFindingUpdate,
    securityHubPort,
    dynamoDbPort,
    invokeSchedule,
    schedulerTickMs,
    schedulerPort,
    ...simulatorOptions
  } = options;
  const pam = await startPamSimulator({ ...simulatorOptions, credentials });
  const paths: Record<string, string> = {};
  if (options.listPath) paths.list_path = options.listPath;
  if (options.dropPath) paths.drop_path = options.dropPath;
  if (options.lookupPath) paths.lookup_path = options.lookupPath;
  if (options.credentialPath) paths.credential_path = options.credentialPath;
  const secrets = await startSecretsManagerStandIn({ [secretId]: pamSecretString(pam.url, credentials, paths) });
  const eventBridge = await startEventBridgeStandIn({
    ...(eventBridgePort === undefined ? {} : { port: eventBridgePort }),
    ...(onAuditEvent ? { onEvent: onAuditEvent } : {}),
  });
  const s3 = await startS3StandIn({
    bucket: 'pam-session-inventory-local',
    ...(s3Port === undefined ? {} : { port: s3Port }),
  });
  const sns = await startSnsStandIn(onAlarm ? { onNotice: onAlarm } : {});
  const securityHub = await startSecurityHubStandIn({
    ...(securityHubPort === undefined ? {} : { port: securityHubPort }),
    ...(onFindingUpdate ? { onUpdate: onFindingUpdate } : {}),
  });
  const dynamodb = await startDynamoDbStandIn(dynamoDbPort === undefined ? {} : { port: dynamoDbPort });
  const scheduler = await startSchedulerStandIn({
    ...(invokeSchedule ? { invoke: invokeSchedule } : {}),
    ...(schedulerTickMs === undefined ? {} : { tickMs: schedulerTickMs }),
    ...(schedulerPort === undefined ? {} : { port: schedulerPort }),
  });
  const env = localAwsEnv({ secretId, secrets, eventBridge, s3, sns, securityHub, dynamodb, scheduler });
  return {
    pam,
    secrets,
    eventBridge,
    s3,
    sns,
    securityHub,
    dynamodb,
    scheduler,
    secretId,
    credentials,
    env,
    close: async () => {
      await Promise.all([
        pam.close(),
        secrets.close(),
        eventBridge.close(),
        s3.close(),
        sns.close(),
        securityHub.close(),
        dynamodb.close(),
        scheduler.close(),
      ]);
    },
  };
}
