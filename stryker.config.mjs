// `npm run mutation` (not part of `npm test`): mutation testing of the decision modules. Incremental, so a
// rerun tries only the mutants whose code or covering tests changed; one test process at a time, for a
// machine shared with others. docs/testing.md records the score and every mutant that survives.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: [
    'lib/sessions/**/*.ts',
    'lib/termination/**/*.ts',
    'lib/pam/**/*.ts',
    'lib/inventory/active-index.ts',
    'lib/containment/**/*.ts',
    'lib/invocation/once-per-trigger.ts',
  ],
  coverageAnalysis: 'perTest',
  // Module-level constants: a mutant of one is run against every test (77% of the time for 25% of the mutants).
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  concurrency: 1,
  timeoutMS: 20_000,
  thresholds: { high: 90, low: 85, break: null },
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
