import { S3ServiceException } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { httpApiEvent, lambdaContext } from '../../infra/local/lambda-events.js';
import { StorageUnavailableError, storageFailure } from '../../lib/aws/aws-errors.js';
import { ConfigurationError, errorMessage } from '../../lib/core/errors.js';
import { CorruptIndexError, parseActiveIndex } from '../../lib/inventory/active-index.js';
import { errorResponder } from '../../lib/invocation/http-response.js';
import { networkFailure } from '../../lib/pam/network-failure.js';
import { PamApiError } from '../../lib/pam/pam-errors.js';
import { parsePamSecret } from '../../lib/pam/pam-secret.js';
import { TerminationIncompleteError } from '../../lib/termination/termination-errors.js';
import { captureOutput } from '../support/output-capture.js';

const SIGNED_URL = 'https://bucket.s3.amazonaws.com/key?X-Amz-Signature=0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const AUTHORIZATION = 'OAuth oauth_consumer_key="ck-LEAK", oauth_signature="c2lnbmF0dXJlLUxFQUs%3D"';

/** An error as a lower layer might throw it: a URL with a signature and the request's Authorization header on it. */
function secretBearing(): Error {
  return Object.assign(new Error(`request to ${SIGNED_URL} failed`), {
    code: 'ECONNRESET',
    headers: { authorization: AUTHORIZATION },
  });
}

describe('a wrap keeps what it wraps as its cause', () => {
  it("networkFailure: Node's connection error under the PamApiError", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const failure = networkFailure(refused, 5_000);
    expect(failure).toBeInstanceOf(PamApiError);
    expect(failure.kind).toBe('unreachable');
    expect(failure.message).toBe('Could not reach the PAM Core (ECONNREFUSED)');
    expect(failure.cause).toBe(refused);
  });

  it("storageFailure: S3's error under the operator's error, for each kind", () => {
    const s3Error = (name: string, fault: 'client' | 'server') =>
      new S3ServiceException({ name, $fault: fault, $metadata: { httpStatusCode: fault === 'server' ? 503 : 403 } });
    const missing = s3Error('NoSuchBucket', 'client');
    const denied = s3Error('AccessDenied', 'client');
    const slow = s3Error('SlowDown', 'server');
    expect(storageFailure(missing, 'b')).toEqual(expect.any(ConfigurationError));
    expect(storageFailure(missing, 'b').cause).toBe(missing);
    expect(storageFailure(denied, 'b').cause).toBe(denied);
    const unavailable = storageFailure(slow, 'b');
    expect(unavailable).toBeInstanceOf(StorageUnavailableError);
    expect(unavailable.cause).toBe(slow);
  });

  it("parseActiveIndex: the parser's error under CorruptIndexError", () => {
    let thrown: unknown;
    try {
      parseActiveIndex('{"listed_at":');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CorruptIndexError);
    expect((thrown as Error).cause).toBeInstanceOf(SyntaxError);
  });

  it("keeps no cause where the parser's message would quote a secret", () => {
    const secretText = '{"consumer_secret": "cs-NEVER-QUOTED", ';
    let thrown: unknown;
    try {
      parsePamSecret('pam/prod', secretText);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect((thrown as Error).cause).toBeUndefined();
    expect(JSON.stringify(thrown) + String(thrown)).not.toContain('cs-NEVER-QUOTED');
  });
});

describe('errorMessage', () => {
  it("gives an Error's message and nothing else: no name, stack, cause or other field", () => {
    const error = new TerminationIncompleteError('the drop failed', { cause: secretBearing() });
    Object.assign(error, { config: { headers: { authorization: AUTHORIZATION } } });
    expect(errorMessage(error)).toBe('the drop failed');
  });

  it('gives a thrown non-Error as text', () => {
    expect(errorMessage('plain text')).toBe('plain text');
    expect(errorMessage(42)).toBe('42');
    expect(errorMessage(undefined)).toBe('undefined');
    expect(errorMessage({ authorization: AUTHORIZATION })).toBe('[object Object]');
  });
});

describe('a cause never reaches the response or the logs', () => {
  it('responds and logs the code and message of a wrapped error, not its cause', async () => {
    const output = captureOutput();
    const before = output.text().length;
    const handler = middy(async () => {
      throw new TerminationIncompleteError('the drop of 42 failed unexpectedly', { cause: secretBearing() });
    }).use(errorResponder());
    const response = (await handler(
      httpApiEvent({ method: 'DELETE', routeKey: 'DELETE /sessions/{id}', rawPath: '/sessions/42' }),
      lambdaContext(),
    )) as { statusCode: number; body: string };
    expect(response.statusCode).toBe(502);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'termination_incomplete', message: 'the drop of 42 failed unexpectedly' },
    });
    const logged = output.text().slice(before);
    expect(logged).toContain('the drop of 42 failed unexpectedly');
    for (const secret of [SIGNED_URL, 'X-Amz-Signature', AUTHORIZATION, 'oauth_signature', 'ck-LEAK']) {
      expect(response.body).not.toContain(secret);
      expect(logged).not.toContain(secret);
    }
  });
});
