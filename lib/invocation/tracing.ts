import type { MiddlewareObj } from '@middy/core';
import { observabilitySettings, tracingSettings } from '../core/settings.js';

/**
 * The Powertools Tracer's middleware (a segment per invocation, cold start and errors annotated) when
 * POWERTOOLS_TRACE_ENABLED is true, which serverless.yml's tracing param sets beside Lambda's active
 * tracing; none otherwise. Off, the Tracer and the X-Ray SDK under it are not even loaded: they cost a
 * cold start (docs/bench-tracing.md).
 */
export async function tracingMiddleware(): Promise<MiddlewareObj[]> {
  if (!tracingSettings().enabled) return [];
  const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([
    import('@aws-lambda-powertools/tracer'),
    import('@aws-lambda-powertools/tracer/middleware'),
  ]);
  const tracer = new Tracer({ serviceName: observabilitySettings().serviceName });
  return [captureLambdaHandler(tracer) as MiddlewareObj];
}
