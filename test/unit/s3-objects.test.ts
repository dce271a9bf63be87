import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readS3Object } from '../../lib/aws/s3-objects.js';
import { MAX_OBJECT_BYTES } from '../../lib/aws/signed-s3-get.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

/** A GetObject response of `length` bytes as S3 declares it, whose body says `text`. */
function declaring(length: number, text: string) {
  const body = { transformToString: vi.fn(async () => text), destroy: vi.fn() };
  s3.on(GetObjectCommand).resolves({ ContentLength: length, ETag: '"e1"', Body: body as never });
  return body;
}

describe('readS3Object: the size of what it reads', () => {
  it('reads a body of exactly MAX_OBJECT_BYTES', async () => {
    const body = declaring(MAX_OBJECT_BYTES, '{"version":1}');
    await expect(
      readS3Object('GET', 'pam-inventory', 'index/active-sessions.json', { timeoutMs: 1_000 }),
    ).resolves.toEqual({ etag: '"e1"', lastModified: undefined, body: '{"version":1}' });
    expect(body.destroy).not.toHaveBeenCalled();
  });

  it('refuses one byte more before reading it, and releases the connection', async () => {
    const body = declaring(MAX_OBJECT_BYTES + 1, 'never read');
    await expect(
      readS3Object('GET', 'pam-inventory', 'index/active-sessions.json', { timeoutMs: 1_000 }),
    ).rejects.toMatchObject({
      name: 'ObjectTooLargeError',
      message: `s3://pam-inventory/index/active-sessions.json is ${MAX_OBJECT_BYTES + 1} bytes, over the ${MAX_OBJECT_BYTES} read`,
    });
    expect(body.transformToString).not.toHaveBeenCalled();
    expect(body.destroy).toHaveBeenCalledOnce();
  });

  it('sends the ETag it holds as If-None-Match', async () => {
    declaring(2, '{}');
    await readS3Object('GET', 'pam-inventory', 'index/active-sessions.json', { ifNoneMatch: '"e0"', timeoutMs: 1_000 });
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'pam-inventory',
      Key: 'index/active-sessions.json',
      IfNoneMatch: '"e0"',
    });
  });
});
