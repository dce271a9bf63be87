import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from '../core/logger.js';
import { invocationStarted } from '../core/settings.js';
import { errorResponder } from './http-response.js';
import { tracingMiddleware } from './tracing.js';

/**
 * The handler, with each settings area reading the environment once per invocation instead of at
 * every use (about 40 reads before a warm drop's DELETE). It wraps the whole middy chain, so the
 * invocation ends however the chain does (a middleware that throws or responds early included).
 */
export function withSettingsPerInvocation<E, C, R>(
  handler: (event: E, context: C) => Promise<R>,
): (event: E, context: C) => Promise<R> {
  return async (event, context) => {
    const end = invocationStarted();
    try {
      return await handler(event, context);
    } finally {
      end();
    }
  };
}

/**
 * A function's handler as every function runs it: settings read once per invocation, the Tracer's
 * segment (when tracing is on), the Logger's Lambda context, the function's own `middlewares`
 * (its metrics), and errors turned into responses, logs and metrics.
 */
export async function lambdaHandler<E, R>(
  handler: (event: E, context: Context) => Promise<R>,
  options: { middlewares?: MiddlewareObj[]; onInvalidRequest?: () => Promise<void> } = {},
): Promise<(event: E, context: Context) => Promise<R>> {
  return withSettingsPerInvocation(
    middy(handler)
      .use(await tracingMiddleware())
      .use(injectLambdaContext(logger))
      .use(options.middlewares ?? [])
      .use(errorResponder({ onInvalidRequest: options.onInvalidRequest })),
  );
}
