import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse } from 'yaml';

type Handler = (event: unknown, context: unknown) => Promise<any>;
type Json = Record<string, unknown>;

const DOCUMENT = new URL('../../docs/openapi.yaml', import.meta.url);
const COMPONENT_REF = '#/components/schemas/';

/**
 * The document's schemas made strict for checking: an object schema that lists its properties rejects
 * any other (unevaluatedProperties), so a field a handler sends and the document does not name fails,
 * while the document itself stays open to additions for its readers. Component refs become ids ajv knows.
 */
function strict(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) return value.map((item) => strict(item));
  if (typeof value !== 'object' || value === null || key === 'examples') return value;
  const schema = Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, strict(inner, name)])) as Json;
  if (typeof schema.$ref === 'string' && schema.$ref.startsWith(COMPONENT_REF)) {
    schema.$ref = `urn:openapi:${schema.$ref.slice(COMPONENT_REF.length)}`;
  }
  if (
    schema.type === 'object' &&
    schema.properties !== undefined &&
    schema.additionalProperties === undefined &&
    schema.unevaluatedProperties === undefined
  ) {
    schema.unevaluatedProperties = false;
  }
  return schema;
}

export class HttpContract {
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true });
  private readonly paths: Json;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(document: Json) {
    const checked = strict(document) as { paths: Json; components: { schemas: Record<string, Json> } };
    for (const [name, schema] of Object.entries(checked.components.schemas)) {
      this.ajv.addSchema({ ...schema, $id: `urn:openapi:${name}` });
    }
    this.paths = checked.paths;
  }

  /** Throws unless the document has the route, the status, and a JSON body schema the body satisfies. */
  check(routeKey: string, response: { statusCode: number; headers?: Record<string, string>; body?: string }): void {
    const [method = '', path = ''] = routeKey.split(' ');
    const operation = (this.paths[path] as Json | undefined)?.[method.toLowerCase()] as
      | { responses: Record<string, { content?: Record<string, { schema: Json }> }> }
      | undefined;
    if (!operation) throw new Error(`${routeKey} is not in docs/openapi.yaml`);
    const documented = operation.responses[String(response.statusCode)];
    if (!documented) {
      throw new Error(
        `${routeKey} answered ${response.statusCode}, which docs/openapi.yaml does not list: ${response.body}`,
      );
    }
    const schema = documented.content?.['application/json']?.schema;
    if (!schema) throw new Error(`docs/openapi.yaml gives ${routeKey} ${response.statusCode} no JSON body`);
    if (response.headers?.['content-type'] !== 'application/json') {
      throw new Error(`${routeKey} answered ${response.statusCode} as ${response.headers?.['content-type']}`);
    }
    const key = `${routeKey} ${response.statusCode}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.validators.set(key, validate);
    }
    if (!validate(JSON.parse(response.body ?? ''))) {
      const problems = (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message}`);
      throw new Error(
        `${routeKey} ${response.statusCode} does not match docs/openapi.yaml: ${problems.join('; ')}\n${response.body?.slice(0, 2_000)}`,
      );
    }
  }
}

let contract: HttpContract | undefined;

/** The committed document, read once per test file. */
export function httpContract(): HttpContract {
  contract ??= new HttpContract(parse(readFileSync(DOCUMENT, 'utf8')) as Json);
  return contract;
}

/** The route of an API Gateway HTTP API event, or undefined for any other invocation. */
function routeOf(event: unknown): string | undefined {
  const candidate = event as { routeKey?: unknown; requestContext?: { http?: unknown } } | null;
  return candidate?.requestContext?.http && typeof candidate.routeKey === 'string' ? candidate.routeKey : undefined;
}

/** Checks every HTTP response the handler gives against docs/openapi.yaml; other invocations pass through. */
export function withHttpContract(handler: Handler): Handler {
  return async (event, context) => {
    const response = await handler(event, context);
    const route = routeOf(event);
    if (route !== undefined) httpContract().check(route, response);
    return response;
  };
}
