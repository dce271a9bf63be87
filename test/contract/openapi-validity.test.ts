import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const DOCUMENT = fileURLToPath(new URL('../../docs/openapi.yaml', import.meta.url));

describe('docs/openapi.yaml against the OpenAPI 3.1 specification', () => {
  it("is valid: the specification's JSON Schema for 3.1, and every $ref resolves", async () => {
    const validator = new Validator();
    expect(await validator.validate(DOCUMENT)).toEqual({ valid: true });
    expect(validator.version).toBe('3.1');
  });

  // The validator bites: what a slip in the generator would produce is refused.
  it.each([
    ['a response without a description', (doc: any) => delete doc.paths['/sessions'].get.responses['200'].description],
    [
      'a dangling $ref',
      (doc: any) =>
        (doc.paths['/sessions'].get.responses['200'].content['application/json'].schema.$ref =
          '#/components/schemas/Nope'),
    ],
    ['a parameter in an unknown place', (doc: any) => (doc.paths['/sessions'].get.parameters[0].in = 'body')],
  ])('refuses a copy with %s', async (_what, spoil) => {
    const document = parse(readFileSync(DOCUMENT, 'utf8'));
    spoil(document);
    expect((await new Validator().validate(document)).valid).toBe(false);
  });
});
