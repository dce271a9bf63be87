import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import * as awsErrors from '../../lib/aws/aws-errors.js';
import * as containmentErrors from '../../lib/containment/containment-errors.js';
import * as coreErrors from '../../lib/core/errors.js';
import * as inventoryErrors from '../../lib/inventory/inventory-errors.js';
import { confirmationSchema } from '../../lib/invocation/confirmation-input.js';
import { credentialBodySchema } from '../../lib/invocation/credential-input.js';
import * as pamErrors from '../../lib/pam/pam-errors.js';
import { listQuerySchema } from '../../lib/sessions/session-filter.js';
import * as terminationErrors from '../../lib/termination/termination-errors.js';
import { terminationDetailSchema } from '../../lib/termination/termination-request.js';
import { HttpContract, httpContract } from '../support/openapi-contract.js';
import { captureExamples } from './capture-examples.js';
import { errorCodes, inputSchemas, renderOpenApi } from './openapi-document.js';

const DOCUMENT_TEXT = readFileSync(new URL('../../docs/openapi.yaml', import.meta.url), 'utf8');
const document = parse(DOCUMENT_TEXT) as {
  paths: Record<string, Record<string, { responses: Record<string, any>; requestBody?: any }>>;
};
const HTTP_API_DOC = readFileSync(new URL('../../docs/http-api.md', import.meta.url), 'utf8');

describe('docs/openapi.yaml', () => {
  it('is what npm run docs writes from the zod schemas and the handlers as they are', async () => {
    expect(DOCUMENT_TEXT).toBe(renderOpenApi(await captureExamples()));
  }, 60_000);

  it('shows examples that match their own schemas, the request bodies accepted by the handler', () => {
    let checked = 0;
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          for (const example of Object.values(response.content?.['application/json']?.examples ?? {}) as any[]) {
            httpContract().check(`${method.toUpperCase()} ${path}`, {
              statusCode: Number(status),
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(example.value),
            });
            checked += 1;
          }
        }
        for (const example of Object.values(
          operation.requestBody?.content['application/json'].examples ?? {},
        ) as any[]) {
          const schema = path.startsWith('/credentials/')
            ? credentialBodySchema
            : path === '/sessions/terminate/confirm'
              ? confirmationSchema
              : terminationDetailSchema;
          expect(schema.safeParse(example.value).success).toBe(true);
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });

  it('has a 200 example of every source of GET /sessions', () => {
    const examples = Object.values(
      document.paths['/sessions']?.get?.responses['200'].content['application/json'].examples,
    );
    expect(new Set(examples.map((example: any) => example.value.source))).toEqual(
      new Set(['live', 'index', 'snapshot']),
    );
  });

  it("lists every error code the handlers can answer, at its status: every layer's errors and internal_error", () => {
    const errors = {
      ...coreErrors,
      ...awsErrors,
      ...pamErrors,
      ...inventoryErrors,
      ...terminationErrors,
      ...containmentErrors,
    };
    const pamKinds = {
      rejected: true,
      unauthorized: true,
      timeout: true,
      unreachable: true,
      tls: true,
      bad_response: true,
    } satisfies Record<pamErrors.PamFailureKind, true>;
    const thrown = [
      ...Object.keys(pamKinds).map(
        (kind) => new errors.PamApiError({ kind: kind as pamErrors.PamFailureKind, retryable: false, message: '' }),
      ),
      ...Object.values(errors)
        .filter(
          (candidate) =>
            typeof candidate === 'function' &&
            candidate.prototype instanceof errors.ResponderError &&
            candidate !== errors.PamApiError,
        )
        .map((ErrorClass) => new (ErrorClass as unknown as new (message: string) => coreErrors.ResponderError)('')),
    ];
    const answered = [
      ...thrown.map((error) => ({ status: error.httpStatus, code: error.code })),
      { status: 500, code: 'internal_error' },
    ];
    const byCode = (a: { code: string }, b: { code: string }) => a.code.localeCompare(b.code);
    expect(errorCodes().sort(byCode)).toEqual(answered.sort(byCode));
  });

  it("lists the same codes and statuses as docs/http-api.md's errors table", () => {
    const table = HTTP_API_DOC.slice(HTTP_API_DOC.indexOf('## Errors'));
    const rows = [...table.matchAll(/^\| (\d{3}) \| (.+?) \|/gm)].flatMap(([, status, codes]) =>
      [...(codes ?? '').matchAll(/`([a-z_]+)`/g)].map(([, code = '']) => ({ status: Number(status), code })),
    );
    const byCode = (a: { code: string }, b: { code: string }) => a.code.localeCompare(b.code);
    expect(rows.sort(byCode)).toEqual(errorCodes().sort(byCode));
  });
});

describe('the contract check every HTTP response in the suite goes through', () => {
  const contract = new HttpContract(parse(DOCUMENT_TEXT));
  const json = (statusCode: number, body: unknown) => ({
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const single = {
    session_id: 'abc',
    status: 'terminated',
    resolved_from: 'live',
    index_age_ms: null,
    event_age_ms: 3,
  };

  it('passes a documented response', () => {
    expect(() => contract.check('DELETE /sessions/{sessionId}', json(200, single))).not.toThrow();
  });

  it.each([
    [
      'an undocumented status',
      'POST /sessions/terminate',
      json(409, { error: { code: 'protected_session', message: '' } }),
    ],
    [
      'a code the status does not list',
      'DELETE /sessions/{sessionId}',
      json(404, { error: { code: 'snapshot_not_found', message: '' } }),
    ],
    ['a field the document does not name', 'DELETE /sessions/{sessionId}', json(200, { ...single, extra: 1 })],
    ['a missing field', 'DELETE /sessions/{sessionId}', json(200, { ...single, event_age_ms: undefined })],
    [
      'a wrong type',
      'GET /sessions',
      json(200, { sessions: [], count: '0', next: null, malformed: 0, source: 'live' }),
    ],
    ['an undocumented route', 'GET /sessions/{sessionId}', json(200, single)],
    [
      'another media type',
      'DELETE /sessions/{sessionId}',
      { ...json(200, single), headers: { 'content-type': 'text/plain' } },
    ],
  ])('refuses %s', (_what, route, response) => {
    expect(() => contract.check(route, response)).toThrow();
  });
});

/** Strings near the edges the schemas draw: blank, padded, at and past the lengths, numbers as text. */
const edgy = fc.oneof(
  fc.string(),
  fc.constantFrom('', ' ', ' x ', 'true', 'false', 'live', 'snapshot', 'index', '0', '1', '5000', '5001', '9999', '01'),
  fc.nat({ max: 3000 }).map((length) => 'x'.repeat(length)),
  fc
    .tuple(fc.constantFrom(' ', '\t'), fc.constantFrom(1, 31, 32, 63, 64, 255, 256, 1023, 1024, 2047, 2048))
    .map(([pad, length]) => `${pad}${'x'.repeat(length)}${pad}`),
);

describe("the input schemas in the document accept whatever the handlers' zod schemas accept", () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const schemas = inputSchemas();

  /** Text a field accepts by construction: non-blank, at most `max` characters as sent, padding included. */
  const validText = (max: number) =>
    fc
      .tuple(fc.string({ minLength: 1, maxLength: Math.min(max - 2, 40) }), fc.constantFrom('', ' ', '\t'))
      .filter(([core]) => core.trim() !== '')
      .map(([core, pad]) => `${pad}${core}${pad}`);

  it('GET /sessions query strings', () => {
    const validate = ajv.compile(schemas.query);
    const names = fc.constantFrom(...Object.keys(listQuerySchema.def.shape), 'status', 'Active');
    // Mostly a query the handler accepts by construction; sometimes anything near the edges.
    const validQuery = fc.record(
      {
        source: fc.constantFrom('live', 'snapshot'),
        active: fc.constantFrom('true', 'false'),
        user: validText(256),
        origin_ip: fc.constantFrom('10.20.0.0/16', '203.0.113.77', '::ffff:203.0.113.77'),
        device: validText(256),
        protocol: validText(256),
        credential: validText(256),
        limit: fc.integer({ min: 1, max: 5000 }).map(String),
        cursor: fc.string({ maxLength: 2048 }),
      },
      { requiredKeys: [] },
    );
    const anyQuery = fc.dictionary(names, edgy, { maxKeys: 5 });
    let accepted = 0;
    let runs = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          { arbitrary: validQuery.map((query) => ({ query, valid: true })), weight: 4 },
          {
            arbitrary: anyQuery.map((query) => ({ query, valid: false })),
            weight: 1,
          },
        ),
        ({ query, valid }) => {
          runs += 1;
          const zod = listQuerySchema.safeParse(query).success;
          if (valid) expect(zod, JSON.stringify(query)).toBe(true);
          if (zod) {
            accepted += 1;
            expect(validate(query), JSON.stringify(query)).toBe(true);
          }
        },
      ),
      { numRuns: 2_000 },
    );
    expect(accepted / runs).toBeGreaterThanOrEqual(0.5);
  });

  it('termination requests (POST /sessions/terminate bodies)', () => {
    const validate = ajv.compile(schemas.terminationRequest);
    const id = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,130}$/), edgy);
    const match = fc.dictionary(
      fc.constantFrom('user', 'origin_ip', 'device', 'credential', 'protocol', 'port'),
      fc.oneof(edgy, fc.constantFrom('10.20.0.0/16', '203.0.113.77', '10.66.50.9:22')),
      { maxKeys: 3 },
    );
    const anyRequest = fc.record(
      {
        session_id: id,
        session_ids: fc.array(id, { maxLength: 101 }),
        match: fc.oneof(match, fc.anything()),
        reason: edgy,
        requested_by: edgy,
        dry_run: fc.oneof(fc.boolean(), edgy),
        confirm_over_cap: fc.boolean(),
        unknown_field: fc.anything(),
      },
      { requiredKeys: [] },
    );
    // Mostly a request the handler accepts by construction: a target, a reason, valid optional fields.
    const validId = fc.stringMatching(/^[A-Za-z0-9_-]{1,128}$/);
    const validMatch = fc
      .record(
        {
          user: validText(256),
          origin_ip: fc.constantFrom('10.20.0.0/16', '203.0.113.77', '2001:db8::/48', '::ffff:10.1.2.3'),
          device: fc.constantFrom('10.66.50.9:22', '10.66.50.9', 'db-prod-01.corp.example', '[2001:db8::1]:3389'),
          credential: validText(256),
          protocol: validText(32),
        },
        { requiredKeys: [] },
      )
      .filter((criteria) => Object.keys(criteria).length > 0);
    const validRequest = fc
      .tuple(
        fc.record(
          {
            session_id: validId,
            session_ids: fc.array(validId, { minLength: 1, maxLength: 100 }),
            match: validMatch,
          },
          { requiredKeys: [] },
        ),
        fc.record(
          {
            reason: validText(1024),
            requested_by: validText(256),
            dry_run: fc.boolean(),
            confirm_over_cap: fc.boolean(),
          },
          { requiredKeys: ['reason'] },
        ),
        validId,
      )
      .map(([targets, rest, fallback]) => ({
        ...(Object.keys(targets).length > 0 ? targets : { session_id: fallback }),
        ...rest,
      }));
    let accepted = 0;
    let runs = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          { arbitrary: validRequest.map((body) => ({ body, valid: true })), weight: 4 },
          {
            arbitrary: anyRequest.map((body) => ({ body, valid: false })),
            weight: 1,
          },
        ),
        ({ body, valid }) => {
          runs += 1;
          const zod = terminationDetailSchema.safeParse(body).success;
          if (valid) expect(zod, JSON.stringify(body)).toBe(true);
          if (zod) {
            accepted += 1;
            expect(validate(body), JSON.stringify(body)).toBe(true);
          }
        },
      ),
      { numRuns: 2_000 },
    );
    expect(accepted / runs).toBeGreaterThanOrEqual(0.5);
  });

  // The other way round the document is looser, on purpose: zod's refinements have no JSON Schema. Each gap is
  // named in the document's descriptions; these are they.
  it.each([
    ['a blank filter', 'query', { user: '  ' }],
    ['a limit over 5000', 'query', { limit: '9999' }],
    ['a limit of 0', 'query', { limit: '0' }],
    ['a request naming no target', 'terminationRequest', { reason: 'r' }],
    ['an empty match', 'terminationRequest', { match: {}, reason: 'r' }],
    ['a blank reason', 'terminationRequest', { session_id: 'a', reason: ' ' }],
    ['an origin_ip that is no address', 'terminationRequest', { match: { origin_ip: '10.1' }, reason: 'r' }],
    ['a device port out of range', 'terminationRequest', { match: { device: 'h:0' }, reason: 'r' }],
  ] as const)('%s: the schema accepts it, the handler refuses it (400)', (_what, which, input) => {
    expect(ajv.validate(schemas[which], input)).toBe(true);
    const zod = which === 'query' ? listQuerySchema : terminationDetailSchema;
    expect(zod.safeParse(input).success).toBe(false);
  });
});
