import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { closeServer, listenOnLoopback, withBody } from './loopback-server.js';

export interface PublishedNotice {
  topicArn: string;
  subject: string;
  message: unknown;
}

export interface SnsStandIn {
  /** Point the AWS SDK here with AWS_ENDPOINT_URL_SNS. */
  url: string;
  topicArn: string;
  notices: PublishedNotice[];
  close(): Promise<void>;
}

/**
 * Speaks just enough of SNS's query protocol (Publish) on loopback to receive what the drop tells
 * the alarm topic, locally and in tests.
 */
export async function startSnsStandIn(
  options: { onNotice?: (notice: PublishedNotice) => void } = {},
): Promise<SnsStandIn> {
  const topicArn = 'arn:aws:sns:us-east-1:000000000000:pam-session-responder-local-alarms';
  const notices: PublishedNotice[] = [];
  const server = createServer(
    withBody((_req, res, body) => {
      const form = new URLSearchParams(body);
      if (form.get('Action') !== 'Publish' || form.get('TopicArn') !== topicArn) {
        res.writeHead(400, { 'content-type': 'text/xml' });
        res.end(
          '<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error></ErrorResponse>',
        );
        return;
      }
      const message = form.get('Message') ?? '';
      let parsed: unknown = message;
      try {
        parsed = JSON.parse(message);
      } catch {
        // A notice need not be JSON.
      }
      const notice = { topicArn, subject: form.get('Subject') ?? '', message: parsed };
      notices.push(notice);
      options.onNotice?.(notice);
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
      );
    }),
  );
  const port = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${port}`, topicArn, notices, close: () => closeServer(server) };
}
