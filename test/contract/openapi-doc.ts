import { writeFileSync } from 'node:fs';

/** npm run docs: writes docs/openapi.yaml from the zod schemas and the responses of the handlers as built now. */
Object.assign(process.env, {
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});
const { buildFunctions } = await import('../../infra/build/bundles.js');
const { captureExamples } = await import('./capture-examples.js');
const { renderOpenApi } = await import('./openapi-document.js');
// The export's worker threads run from its bundle: capture from the code as it is now.
await buildFunctions();
writeFileSync(new URL('../../docs/openapi.yaml', import.meta.url), renderOpenApi(await captureExamples()));
console.log('docs/openapi.yaml written');
// The SDK's and Node's keep-alive sockets would hold the process open.
process.exit(0);
