import { pathToFileURL } from 'node:url';
import { withHttpContract } from './openapi-contract.js';

export type Handler = (event: unknown, context: unknown) => Promise<any>;
export type FunctionName = 'list' | 'drop' | 'confirm' | 'export' | 'index-sessions' | 'credentials';

/** Lambda refuses a function's response above this many bytes (API Gateway then answers 500). */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6_291_456;

/** Every response any handler gave in this test file, with its size as Lambda would count it. */
export const responseSizes: Array<{ name: FunctionName; bytes: number }> = [];

/** The handler as Lambda runs it: its response serialised to JSON, and refused above 6 MB. */
export function withLambdaLimits(name: FunctionName, handler: Handler): Handler {
  return async (event, context) => {
    const response = await handler(event, context);
    const bytes = Buffer.byteLength(JSON.stringify(response) ?? 'null');
    responseSizes.push({ name, bytes });
    if (bytes > LAMBDA_RESPONSE_LIMIT_BYTES) {
      throw new Error(
        `${name} responded with ${bytes} bytes; Lambda refuses responses over ${LAMBDA_RESPONSE_LIMIT_BYTES}`,
      );
    }
    return response;
  };
}

const SOURCES: Record<FunctionName, () => Promise<unknown>> = {
  list: () => import('../../functions/list.js'),
  drop: () => import('../../functions/drop.js'),
  confirm: () => import('../../functions/confirm.js'),
  export: () => import('../../functions/export.js'),
  'index-sessions': () => import('../../functions/index-sessions.js'),
  credentials: () => import('../../functions/credentials.js'),
};

/**
 * A function's handler, from its source or (for the export, whose worker threads run a file the
 * build puts beside it) its built bundle; every test reaches the handlers through here, so every
 * response is checked against Lambda's limit and every HTTP response against docs/openapi.yaml.
 * Only the generator of that document (test/contract/capture-examples.ts) turns the second check off.
 * Import after the local stack's variables are set: the SDK reads AWS_ENDPOINT_URL_* once.
 */
export async function loadHandler(
  name: FunctionName,
  from: 'source' | 'bundle' = 'source',
  options: { contract?: boolean } = {},
): Promise<Handler> {
  const module =
    from === 'source'
      ? await SOURCES[name]()
      : await import(pathToFileURL(new URL(`../../dist/${name}/index.mjs`, import.meta.url).pathname).href);
  const handler = withLambdaLimits(name, (module as { handler: Handler }).handler);
  return options.contract === false ? handler : withHttpContract(handler);
}
