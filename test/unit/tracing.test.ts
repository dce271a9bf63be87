import { afterEach, describe, expect, it } from 'vitest';
import { tracingMiddleware } from '../../lib/invocation/tracing.js';

afterEach(() => {
  delete process.env.POWERTOOLS_TRACE_ENABLED;
});

describe('tracingMiddleware', () => {
  it('adds nothing, and loads no Tracer, unless POWERTOOLS_TRACE_ENABLED is true', async () => {
    expect(await tracingMiddleware()).toEqual([]);
    process.env.POWERTOOLS_TRACE_ENABLED = 'false';
    expect(await tracingMiddleware()).toEqual([]);
  });

  it("adds the Powertools Tracer's handler capture when it is true", async () => {
    process.env.POWERTOOLS_TRACE_ENABLED = 'true';
    const middlewares = await tracingMiddleware();
    expect(middlewares).toHaveLength(1);
    expect(Object.keys(middlewares[0] ?? {}).sort()).toEqual(['after', 'before', 'onError']);
  });

  it('refuses a value that is neither true nor false, as every setting does', async () => {
    process.env.POWERTOOLS_TRACE_ENABLED = 'yes';
    await expect(tracingMiddleware()).rejects.toThrow(/POWERTOOLS_TRACE_ENABLED must be "true" or "false"/);
  });
});
