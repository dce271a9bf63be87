import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The tests `npm run mutation` runs against each mutant: the unit tests and the in-process tests that
 * call lib/ in-process (directly, or through a handler's source) and finish in seconds. No bundle build
 * (globalSetup): none of these reads dist/. The output scan without the local stack's import (a second
 * per test file, per mutant). The other integration tests (the local stack behind every handler, the
 * export's bundle, timeouts of several seconds) cost minutes per run; docs/testing.md says which.
 */
export default defineConfig({
  test: {
    ...base.test,
    globalSetup: [],
    setupFiles: ['test/support/scan-output-patterns.ts'],
    include: [
      'test/unit/**/*.test.ts',
      'test/integration/fresh-sessions.integration.test.ts',
      'test/integration/once-per-trigger.integration.test.ts',
      'test/integration/blocked-requests.integration.test.ts',
      'test/integration/active-index-reading.integration.test.ts',
      'test/integration/session-lookup.integration.test.ts',
      'test/integration/pam-client.integration.test.ts',
      'test/integration/tls.integration.test.ts',
      'test/integration/guardrail-boundaries.integration.test.ts',
      'test/integration/containment.integration.test.ts',
      'test/integration/oauth2-token.integration.test.ts',
      'test/integration/credential-api.integration.test.ts',
    ],
  },
});
