import { createServer } from 'node:http';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeServer, listenOnLoopback } from '../../infra/local/loopback-server.js';
import { publishAuditEvents } from '../../lib/aws/audit-trail.js';
import { putEvents } from '../../lib/aws/put-events.js';
import { standardDomain } from '../../lib/aws/sigv4-request.js';
import { jsonApiStandIn, type Received } from '../support/json-api-stand-in.js';
import { EXAMPLE_CREDENTIALS, resignedAuthorization, stubLambdaCredentials } from '../support/sigv4-gateway.js';

const ENTRY = {
  Source: 'pam.session-responder',
  DetailType: 'PAM Session Terminated',
  Detail: JSON.stringify({ session_id: 'abc123', outcome: 'terminated' }),
  EventBusName: 'security-audit',
};

/** A loopback EventBridge: a success for every entry unless a reply is queued. */
const api = jsonApiStandIn((body) => {
  const entries = (JSON.parse(body) as { Entries: unknown[] }).Entries;
  return { FailedEntryCount: 0, Entries: entries.map((_, index) => ({ EventId: `e${index}` })) };
});
const received = api.received;
let port = 0;

beforeAll(async () => {
  port = await api.listen();
});
afterEach(() => {
  vi.unstubAllEnvs();
  api.reset();
});
afterAll(async () => {
  await api.close();
});

function withCredentials(region = 'eu-west-1') {
  stubLambdaCredentials(region, { variable: 'AWS_ENDPOINT_URL_EVENTBRIDGE', url: `http://127.0.0.1:${port}` });
}

/** The audit of one termination, as a drop publishes it. */
const auditOne = () => publishAuditEvents([{ detailType: 'PAM Session Terminated', detail: { session_id: 'a' } }]);

/** PutEvents goes through the EventBridge client, and nothing reaches the loopback EventBridge. */
async function expectSentByTheSdk() {
  const eventBridge = mockClient(EventBridgeClient);
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'sdk' }] });
  try {
    expect(await putEvents([ENTRY])).toMatchObject({ Entries: [{ EventId: 'sdk' }] });
    expect(received).toHaveLength(0);
  } finally {
    eventBridge.restore();
  }
}

describe("PutEvents over Node's HTTP client", () => {
  it('sends the JSON 1.1 call, signed for events in the function region, with the session token', async () => {
    withCredentials('eu-west-1');
    const answer = await putEvents([ENTRY]);
    expect(answer).toEqual({ FailedEntryCount: 0, Entries: [{ EventId: 'e0' }] });
    const [call] = received as [Received];
    expect(call.url).toBe('/');
    expect(call.headers['x-amz-target']).toBe('AWSEvents.PutEvents');
    expect(call.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(call.headers['x-amz-security-token']).toBe('token-for-the-test');
    expect(call.headers.authorization).toMatch(/Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/events\/aws4_request/);
    expect(call.headers.authorization).toBe(
      await resignedAuthorization(
        { ...call, method: 'POST' },
        { service: 'events', region: 'eu-west-1', credentials: EXAMPLE_CREDENTIALS, port },
      ),
    );
    expect(call.headers.authorization).not.toBe(
      await resignedAuthorization(
        { ...call, method: 'POST' },
        { service: 'events', region: 'us-east-1', credentials: EXAMPLE_CREDENTIALS, port },
      ),
    );
    expect(JSON.parse(call.body)).toEqual({ Entries: [ENTRY] });
  });

  it('throws a refused call by the name EventBridge gives it, and the audit retries it', async () => {
    withCredentials();
    api.answerNext({ status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } });
    await expect(putEvents([ENTRY])).rejects.toMatchObject({ name: 'ThrottlingException', status: 400 });
    api.answerNext({ status: 500, body: { __type: 'com.amazonaws.events#InternalException' } });
    expect(await auditOne()).toEqual({
      published: 1,
      failed: 0,
    });
    expect(received).toHaveLength(3);
  });

  it('does not send again what EventBridge refused for good (access denied)', async () => {
    withCredentials();
    api.answerNext({ status: 400, body: { __type: 'AccessDeniedException' } });
    expect(await auditOne()).toEqual({
      published: 0,
      failed: 1,
    });
    expect(received).toHaveLength(1);
  });

  it('knows the standard endpoints of aws, aws-cn and aws-us-gov only; FIPS and dual-stack are left to the SDK', () => {
    expect(standardDomain('eu-west-1')).toBe('amazonaws.com');
    expect(standardDomain('il-central-1')).toBe('amazonaws.com');
    expect(standardDomain('us-gov-west-1')).toBe('amazonaws.com');
    expect(standardDomain('cn-northwest-1')).toBe('amazonaws.com.cn');
    expect(standardDomain('us-iso-east-1')).toBeUndefined();
    expect(standardDomain('eusc-de-east-1')).toBeUndefined();
  });

  it.each(['AWS_USE_FIPS_ENDPOINT', 'AWS_USE_DUALSTACK_ENDPOINT'])(
    'uses the EventBridge client when %s asks for an endpoint only the SDK knows',
    async (variable) => {
      withCredentials('us-east-1');
      vi.stubEnv('AWS_ENDPOINT_URL_EVENTBRIDGE', '');
      vi.stubEnv(variable, 'TRUE');
      await expectSentByTheSdk();
    },
  );

  it("names a refusal from the header when the body does not, and the SDK path's refusals alike", async () => {
    withCredentials();
    api.answerNext({ status: 400, body: {} });
    const refusedBy = async () => putEvents([ENTRY]).catch((error: Error) => error);
    const header = createServer((_req, res) =>
      res.writeHead(400, { 'x-amzn-errortype': 'AccessDeniedException:http://internal' }).end('{}'),
    );
    const headerPort = await listenOnLoopback(header);
    vi.stubEnv('AWS_ENDPOINT_URL_EVENTBRIDGE', `http://127.0.0.1:${headerPort}`);
    try {
      expect(await refusedBy()).toMatchObject({ name: 'AccessDeniedException', status: 400 });
    } finally {
      await closeServer(header);
    }
    vi.stubEnv('AWS_ENDPOINT_URL_EVENTBRIDGE', '');
    vi.stubEnv('AWS_USE_FIPS_ENDPOINT', 'true');
    const eventBridge = mockClient(EventBridgeClient);
    const denied = Object.assign(new Error('not allowed'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    eventBridge.on(PutEventsCommand).rejects(denied);
    try {
      expect(await refusedBy()).toMatchObject({ name: 'AccessDeniedException', status: 400 });
      // Refused for good: the audit does not send it again.
      expect(await auditOne()).toEqual({ published: 0, failed: 1 });
      expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(2);
    } finally {
      eventBridge.restore();
    }
  });

  it('uses the EventBridge client when the environment has no credentials', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    await expectSentByTheSdk();
  });
});
