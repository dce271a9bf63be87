import { invocationStarted } from '../core/settings.js';

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
