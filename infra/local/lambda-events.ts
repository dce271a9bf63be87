import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

export function lambdaContext(options: { remainingMs?: number; functionName?: string } = {}): Context {
  const functionName = options.functionName ?? 'pam-session-responder-dev-drop';
  const endsAt = Date.now() + (options.remainingMs ?? 15_000);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/23/[$LATEST]6f1c2f0b9a7e4d1c8b3a2f1e0d9c8b7a',
    getRemainingTimeInMillis: () => Math.max(0, endsAt - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** An API Gateway HTTP API (payload 2.0) event as a route behind the IAM authorizer receives it. */
export function httpApiEvent(options: {
  method: string;
  routeKey: string;
  rawPath: string;
  pathParameters?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
}): APIGatewayProxyEventV2 {
  const rawQueryString = new URLSearchParams(options.queryStringParameters ?? {}).toString();
  const event: APIGatewayProxyEventV2 & { requestContext: { authorizer?: unknown } } = {
    version: '2.0',
    routeKey: options.routeKey,
    rawPath: options.rawPath,
    rawQueryString,
    headers: {
      accept: '*/*',
      'content-length': '0',
      host: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
      'user-agent': 'curl/8.5.0',
      'x-amz-date': '20261123T101500Z',
      'x-amzn-trace-id': 'Root=1-6741a5e3-0a1b2c3d4e5f6a7b8c9d0e1f',
      'x-forwarded-for': '198.51.100.23',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'a1b2c3d4e5',
      authorizer: {
        iam: {
          accessKey: 'ASIAEXAMPLEACCESSKEY',
          accountId: '123456789012',
          callerId: 'AROAEXAMPLEROLEID:soc-analyst',
          cognitoIdentity: null,
          principalOrgId: null,
          userArn: 'arn:aws:sts::123456789012:assumed-role/SocAnalyst/soc-analyst',
          userId: 'AROAEXAMPLEROLEID:soc-analyst',
        },
      },
      domainName: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'a1b2c3d4e5',
      http: {
        method: options.method,
        path: options.rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '198.51.100.23',
        userAgent: 'curl/8.5.0',
      },
      requestId: 'BvXr1gZ2IAMEJbQ=',
      routeKey: options.routeKey,
      stage: '$default',
      time: '23/Nov/2026:10:15:00 +0000',
      timeEpoch: 1795428900000,
    },
    isBase64Encoded: false,
  };
  if (options.pathParameters) event.pathParameters = options.pathParameters;
  if (options.queryStringParameters) event.queryStringParameters = options.queryStringParameters;
  return event;
}

export const listEvent = (query?: Record<string, string>) =>
  httpApiEvent({ method: 'GET', routeKey: 'GET /sessions', rawPath: '/sessions', queryStringParameters: query });

export const dropEvent = (sessionId: string) =>
  httpApiEvent({
    method: 'DELETE',
    routeKey: 'DELETE /sessions/{sessionId}',
    rawPath: `/sessions/${sessionId}`,
    pathParameters: { sessionId },
  });

/** A SIEM's termination request as EventBridge delivers it, stamped now. */
export const siemTerminationRequest = (id: string, detail: Record<string, unknown>, source = 'soar.example') => ({
  version: '0',
  id,
  'detail-type': 'PAM Session Termination Requested',
  source,
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: [],
  detail,
});
