/**
 * The architecture, enforced (npm run lint, part of npm test). docs/architecture.md draws it.
 * lib/ is layered: a folder may import its own and the folders before it in LAYERS, never after.
 */
const LAYERS = ['core', 'aws', 'sessions', 'pam', 'inventory', 'termination', 'containment', 'invocation'];

const layerRules = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `lib-${layer}-imports-only-downward`,
  comment: `lib/${layer}/ may import ${LAYERS.slice(0, index).join(', ') || 'nothing else in lib/'}: the layers above it build on it, not the reverse`,
  severity: 'error',
  from: { path: `^lib/${layer}/` },
  to: { path: `^lib/(${LAYERS.slice(index + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'functions-import-only-lib',
      comment: 'A handler is thin: it parses, calls lib/ and maps the result; everything else lives in lib/',
      severity: 'error',
      from: { path: '^functions/' },
      to: { pathNot: '^(lib/|node_modules/)', dependencyTypesNot: ['core'] },
    },
    {
      name: 'lib-stays-in-lib',
      comment: 'What is deployed never depends on the local stack, scripts, tests or handlers',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(functions|infra|scripts|test)/' },
    },
    {
      name: 'lib-folders-only',
      comment: 'Every module of lib/ belongs to one of its domain folders',
      severity: 'error',
      from: { path: '^lib/[^/]+$' },
      to: {},
    },
    {
      name: 'tooling-does-not-import-tests',
      comment: 'scripts/ and infra/ are used by tests, never the reverse',
      severity: 'error',
      from: { path: '^(scripts|infra)/' },
      to: { path: '^test/' },
    },
    {
      name: 'infra-does-not-import-scripts',
      comment: 'scripts/ are entry points (npm run …); shared code lives in infra/ or lib/',
      severity: 'error',
      from: { path: '^infra/' },
      to: { path: '^scripts/' },
    },
    {
      name: 'deployed-code-uses-production-dependencies',
      comment: 'The bundles must hold production dependencies only',
      severity: 'error',
      from: { path: '^(lib|functions)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // A worktree may link node_modules from another checkout; its modules are still this project's.
    preserveSymlinks: true,
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
