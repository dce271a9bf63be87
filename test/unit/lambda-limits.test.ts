import { describe, expect, it } from 'vitest';
import { LAMBDA_RESPONSE_LIMIT_BYTES, withLambdaLimits } from '../support/handlers.js';

// Every handler the suite calls goes through withLambdaLimits (test/support/handlers.ts).
describe('the 6 MB response check every handler call goes through', () => {
  it('passes a response of exactly 6,291,456 bytes and refuses one byte more, as Lambda does', async () => {
    const sized = (bytes: number) => withLambdaLimits('list', async () => 'x'.repeat(bytes - 2));
    await expect(sized(LAMBDA_RESPONSE_LIMIT_BYTES)({}, {})).resolves.toHaveLength(LAMBDA_RESPONSE_LIMIT_BYTES - 2);
    await expect(sized(LAMBDA_RESPONSE_LIMIT_BYTES + 1)({}, {})).rejects.toThrow(
      /list responded with 6291457 bytes; Lambda refuses responses over 6291456/,
    );
  });

  it('counts the HTTP envelope, whose body is JSON inside JSON', async () => {
    const body = JSON.stringify({ text: '"'.repeat(3_200_000) });
    const handler = withLambdaLimits('list', async () => ({ statusCode: 200, body }));
    await expect(handler({}, {})).rejects.toThrow(/Lambda refuses/);
  });
});
