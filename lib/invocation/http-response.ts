import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ResponderError, ValidationError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { PamApiError } from '../pam/pam-errors.js';

/** What the handlers read of an API Gateway HTTP API (payload 2.0) event behind the IAM authorizer. */
export interface HttpEvent {
  routeKey?: string;
  rawPath?: string;
  body?: string | null;
  isBase64Encoded?: boolean;
  pathParameters?: Record<string, unknown>;
  requestContext: {
    requestId?: string;
    timeEpoch?: number;
    http: { method: string; path?: string };
    authorizer?: { iam?: { userArn?: string } };
  };
}

/** True for an API Gateway HTTP API (payload 2.0) event, false for a direct invocation. */
export function isHttpApiEvent(event: unknown): boolean {
  const http = (event as { requestContext?: { http?: { method?: unknown } } } | null)?.requestContext?.http;
  return typeof http?.method === 'string';
}

export function jsonResponse(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

function logFailure(error: unknown): void {
  if (!(error instanceof ResponderError)) {
    logger.error('Unexpected error', error as Error);
    return;
  }
  const facts = {
    code: error.code,
    status: error.httpStatus,
    reason: error.message,
    ...(error instanceof PamApiError ? { pam_status: error.status, pam_error_code: error.pamErrorCode } : {}),
  };
  if (error.httpStatus >= 500) logger.error('Request failed', facts);
  else logger.warn('Request refused', facts);
}

/**
 * `onInvalidRequest` runs for a request refused as invalid (a 400), for a function to count it.
 * Answers HTTP API requests that failed with `{"error":{"code","message"}}` and the status of the
 * error; no stack trace leaves the function. Direct invocations get the error thrown back, so
 * Step Functions and Lambda's retry see a failure.
 */
export function errorResponder(
  options: { onInvalidRequest?: () => Promise<void> } = {},
): MiddlewareObj<unknown, unknown, Error, Context> {
  return {
    onError: async (request) => {
      logFailure(request.error);
      // Loaded on the error path only: a cold start that succeeds does not pay for it.
      const { countErrors } = await import('../core/error-metrics.js');
      countErrors([request.error instanceof ResponderError ? request.error : { code: 'internal_error' }]);
      if (request.error instanceof ValidationError) await options.onInvalidRequest?.();
      if (!isHttpApiEvent(request.event)) return;
      const error = request.error;
      request.response =
        error instanceof ResponderError
          ? jsonResponse(error.httpStatus, { error: { code: error.code, message: error.message } })
          : jsonResponse(500, {
              error: {
                code: 'internal_error',
                message: `Unexpected error; the function's logs hold the details under request id ${request.context.awsRequestId}`,
              },
            });
    },
  };
}

/**
 * An HTTP API request's JSON body, at most `maxBytes` (base64 decoded as API Gateway sends it); an empty,
 * oversized or unparseable one is a ValidationError saying what to send.
 */
export function jsonBody(
  event: { body?: string | null; isBase64Encoded?: boolean },
  limits: { maxBytes: number; expected: string },
): unknown {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text) > limits.maxBytes)
    throw new ValidationError(`the request body is larger than ${limits.maxBytes} bytes`);
  if (text.trim() === '') throw new ValidationError(`the request body is empty; send ${limits.expected}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('the request body is not valid JSON');
  }
}
