/** The index is a few hundred KB (2.6 MB at 7,000 active sessions): a body past this is not one of ours. */
export const MAX_OBJECT_BYTES = 64 * 1024 * 1024;

/** An object over MAX_OBJECT_BYTES: refused, and not asked for again. */
export class ObjectTooLargeError extends Error {
  override readonly name = 'ObjectTooLargeError';
}

/** A response body as Node's HTTP client and the S3 client give it. */
type Body = AsyncIterable<Uint8Array> & { destroy?: () => void };

/**
 * An S3 object's body as text, for both GETs (signed by hand and the S3 client's). A length S3
 * declares over MAX_OBJECT_BYTES is refused before any of it is read; a body that declares none is
 * refused once its bytes pass it. Refused, the body is destroyed, which releases its connection.
 */
export async function readObjectBody(body: Body | undefined, declaredLength: number, object: string): Promise<string> {
  const tooLarge = () => {
    body?.destroy?.();
    return new ObjectTooLargeError(`${object} is over the ${MAX_OBJECT_BYTES} bytes read`);
  };
  if (declaredLength > MAX_OBJECT_BYTES) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of body ?? []) {
    bytes += chunk.byteLength;
    if (bytes > MAX_OBJECT_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
