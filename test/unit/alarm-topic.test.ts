import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { notifyAlarmTopic } from '../../lib/aws/alarm-topic.js';

const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:pam-session-responder-prod-alarms';

afterEach(() => {
  sns.reset();
  delete process.env.ALARM_TOPIC_ARN;
});

describe('the alarm topic', () => {
  it("gets the notice, its subject within SNS's 100 characters", async () => {
    process.env.ALARM_TOPIC_ARN = TOPIC;
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    expect(await notifyAlarmTopic(`blocked ${'x'.repeat(200)}`, { session_ids: ['a'] })).toBe(true);
    const [call] = sns.commandCalls(PublishCommand);
    expect(call?.args[0].input).toMatchObject({ TopicArn: TOPIC, Message: '{"session_ids":["a"]}' });
    expect(call?.args[0].input.Subject).toHaveLength(100);
  });

  it('cannot be reached: logged, never thrown, so the termination and its audit go on', async () => {
    process.env.ALARM_TOPIC_ARN = TOPIC;
    sns.on(PublishCommand).rejects(Object.assign(new Error('denied'), { name: 'AuthorizationErrorException' }));
    await expect(notifyAlarmTopic('blocked', {})).resolves.toBe(false);
  });

  it('is not told anything when none is set', async () => {
    expect(await notifyAlarmTopic('blocked', {})).toBe(false);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });
});
