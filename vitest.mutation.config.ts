import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The tests `npm run mutation` runs against each mutant: those that exercise the decision modules
 * (unit tests, and the integration tests that go through drop, list and the index). Packaging,
 * CloudFormation, the bundles, the export's workers and the end-to-end stack cover none of them.
 */
export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: [
        'test/unit/**/*.test.ts',
        'test/integration/{active-index,guardrail-boundaries,responder,handlers,fault-matrix,simulator-dialects,oauth2,tls}.integration.test.ts',
        'test/integration/fault-matrix.test.ts',
        'test/integration/hostile-input.property.test.ts',
      ],
    },
  }),
);
