import { logger } from '../core/logger.js';
import { auditSettings } from '../core/settings.js';
import { AWS_REQUEST_LIMITS } from './request-limits.js';

type SnsModule = typeof import('@aws-sdk/client-sns');
let sns: Promise<{ module: SnsModule; client: InstanceType<SnsModule['SNSClient']> }> | undefined;

/**
 * Tells whoever subscribes to the stack's alarm topic (ALARM_TOPIC_ARN) something a human must
 * decide. The SNS client is loaded only then, so no other path's cold start pays for it; a failure
 * is logged, never thrown: the audit trail holds the same facts.
 */
export async function notifyAlarmTopic(subject: string, message: unknown): Promise<boolean> {
  const topicArn = auditSettings().alarmTopicArn;
  if (!topicArn) return false;
  try {
    sns ??= import('@aws-sdk/client-sns').then((module) => ({
      module,
      client: new module.SNSClient({ requestHandler: AWS_REQUEST_LIMITS }),
    }));
    const { module, client } = await sns;
    await client.send(
      new module.PublishCommand({
        TopicArn: topicArn,
        Subject: subject.slice(0, 100),
        Message: JSON.stringify(message),
      }),
    );
    return true;
  } catch (error) {
    logger.error('Could not notify the alarm topic', { reason: error instanceof Error ? error.name : String(error) });
    return false;
  }
}
