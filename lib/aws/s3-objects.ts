import type { S3Client } from '@aws-sdk/client-s3';
import { readObjectBody } from './object-body.js';
import { type S3Read, signedGetRoute, signedS3Get } from './signed-s3-get.js';

export type { S3Read };

type S3Module = typeof import('@aws-sdk/client-s3');
let loaded: Promise<{ module: S3Module; s3: S3Client }> | undefined;

/** The S3 client and its commands, loaded on first use (once per container). */
export function s3Sdk(): Promise<{ module: S3Module; s3: S3Client }> {
  loaded ??= Promise.all([import('@aws-sdk/client-s3'), import('./s3-client.js')]).then(([module, { s3 }]) => ({
    module,
    s3,
  }));
  return loaded;
}

/**
 * GETs or HEADs an object, within `timeoutMs`. S3's refusals are the SDK's errors (NoSuchKey, NotFound
 * for a HEAD, NotModified for a conditional GET whose ETag still matches); a body over
 * MAX_OBJECT_BYTES is refused (ObjectTooLargeError).
 */
export async function readS3Object(
  method: 'GET' | 'HEAD',
  bucket: string,
  key: string,
  options: { ifNoneMatch?: string; timeoutMs: number },
): Promise<S3Read> {
  const { module, s3 } = await s3Sdk();
  const input = { Bucket: bucket, Key: key, ...(options.ifNoneMatch ? { IfNoneMatch: options.ifNoneMatch } : {}) };
  const abortSignal = AbortSignal.timeout(options.timeoutMs);
  if (method === 'HEAD') {
    const head = await s3.send(new module.HeadObjectCommand(input), { abortSignal });
    return { etag: head.ETag, lastModified: head.LastModified, body: '' };
  }
  const object = await s3.send(new module.GetObjectCommand(input), { abortSignal });
  const body = await readObjectBody(
    object.Body as Parameters<typeof readObjectBody>[0],
    object.ContentLength ?? 0,
    `s3://${bucket}/${key}`,
  );
  return { etag: object.ETag, lastModified: object.LastModified, body };
}

/**
 * The index's GET: signed by hand where signedGetRoute proves it builds the SDK's URL, else through
 * the S3 client; the same errors either way (NoSuchKey, NotModified…).
 */
export async function readIndexObject(
  bucket: string,
  key: string,
  options: { ifNoneMatch?: string; timeoutMs: number },
): Promise<S3Read> {
  const route = signedGetRoute(bucket);
  return route ? signedS3Get(route, key, options) : readS3Object('GET', bucket, key, options);
}

/** PUTs a small object, within `timeoutMs`. */
export async function putS3Object(
  bucket: string,
  key: string,
  body: string,
  options: { contentType: string; timeoutMs: number },
): Promise<void> {
  const { module, s3 } = await s3Sdk();
  await s3.send(
    new module.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: options.contentType }),
    {
      abortSignal: AbortSignal.timeout(options.timeoutMs),
    },
  );
}
