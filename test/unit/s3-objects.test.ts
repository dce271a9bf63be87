import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_OBJECT_BYTES } from '../../lib/aws/object-body.js';
import { readS3Object } from '../../lib/aws/s3-objects.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const KEY = 'index/active-sessions.json';
const read = () => readS3Object('GET', 'pam-inventory', KEY, { timeoutMs: 1_000 });
const TOO_LARGE = {
  name: 'ObjectTooLargeError',
  message: `s3://pam-inventory/${KEY} is over the ${MAX_OBJECT_BYTES} bytes read`,
};

/** A GetObject response whose body streams `chunks`, declaring `length` (or no length). */
function answering(chunks: Buffer[], length?: number) {
  const body = Readable.from(chunks);
  const destroy = vi.spyOn(body, 'destroy');
  s3.on(GetObjectCommand).resolves({
    ...(length === undefined ? {} : { ContentLength: length }),
    ETag: '"e1"',
    Body: body as never,
  });
  return { body, destroy };
}

describe('readS3Object: the size of what it reads', () => {
  it('reads a body that declares exactly MAX_OBJECT_BYTES', async () => {
    answering([Buffer.from('{"version":1}')], MAX_OBJECT_BYTES);
    await expect(read()).resolves.toEqual({ etag: '"e1"', lastModified: undefined, body: '{"version":1}' });
  });

  it('refuses a body that declares one byte more before reading any of it, and releases the connection', async () => {
    const { body, destroy } = answering([Buffer.from('never read')], MAX_OBJECT_BYTES + 1);
    await expect(read()).rejects.toMatchObject(TOO_LARGE);
    expect(body.readableDidRead).toBe(false);
    expect(destroy).toHaveBeenCalledOnce();
  });

  it('reads a body that declares no length, and refuses one once its bytes pass MAX_OBJECT_BYTES', async () => {
    answering([Buffer.from('{}')]);
    await expect(read()).resolves.toMatchObject({ body: '{}' });
    const { destroy } = answering([Buffer.alloc(MAX_OBJECT_BYTES, 0x61), Buffer.from('b')]);
    await expect(read()).rejects.toMatchObject(TOO_LARGE);
    expect(destroy).toHaveBeenCalled();
  });

  it('sends the ETag it holds as If-None-Match', async () => {
    answering([Buffer.from('{}')], 2);
    await readS3Object('GET', 'pam-inventory', KEY, { ifNoneMatch: '"e0"', timeoutMs: 1_000 });
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'pam-inventory',
      Key: KEY,
      IfNoneMatch: '"e0"',
    });
  });
});
