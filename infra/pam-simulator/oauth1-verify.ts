import { createHmac } from 'node:crypto';

/**
 * RFC 5849 HMAC-SHA1, computed here from the RFC alone: the simulator must not check the product's
 * signatures with the product's own signer (lib/pam/oauth1.ts), or a shared mistake would pass.
 */

/** RFC 5849 3.6: every octet but ALPHA, DIGIT, "-", ".", "_" and "~" as %XX, upper-case hex, over UTF-8. */
export function rfc5849Encode(value: string): string {
  let encoded = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    encoded += /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

/** RFC 5849 3.4.1.2: scheme and host in lower case, the port only when it is not the scheme's default. */
function baseStringUri(scheme: string, host: string, path: string): string {
  const lowerScheme = scheme.toLowerCase();
  const [, name = host, port] = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.toLowerCase()) ?? [];
  const defaultPort = lowerScheme === 'https' ? '443' : '80';
  return `${lowerScheme}://${name}${port && port !== defaultPort ? `:${port}` : ''}${path}`;
}

/** RFC 5849 3.4.1.3.1: a query's name=value pairs, decoded as application/x-www-form-urlencoded. */
function queryPairs(query: string): Array<[string, string]> {
  if (query === '') return [];
  return query.split('&').map((pair) => {
    const at = pair.indexOf('=');
    const decode = (text: string) => decodeURIComponent(text.replace(/\+/g, ' '));
    return at < 0 ? [decode(pair), ''] : [decode(pair.slice(0, at)), decode(pair.slice(at + 1))];
  });
}

/** The signature base string (RFC 5849 3.4.1) for a request as it arrived. */
export function signatureBaseString(
  method: string,
  scheme: string,
  host: string,
  requestTarget: string,
  oauthParameters: Record<string, string>,
  /** An application/x-www-form-urlencoded body, whose pairs are signed too (3.4.1.3.1). */
  formBody = '',
): string {
  const queryAt = requestTarget.indexOf('?');
  const path = queryAt < 0 ? requestTarget : requestTarget.slice(0, queryAt);
  const query = queryAt < 0 ? '' : requestTarget.slice(queryAt + 1);
  const pairs = [
    ...queryPairs(query),
    ...queryPairs(formBody),
    ...Object.entries(oauthParameters).filter(([name]) => name !== 'oauth_signature' && name !== 'realm'),
  ].map(([name, value]) => [rfc5849Encode(name), rfc5849Encode(value)] as const);
  // 3.4.1.3.2: sorted by encoded name, then by encoded value, in byte order.
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  const normalized = pairs.map(([name, value]) => `${name}=${value}`).join('&');
  return [method.toUpperCase(), baseStringUri(scheme, host, path), normalized].map(rfc5849Encode).join('&');
}

/** RFC 5849 3.4.2: HMAC-SHA1 over the base string, keyed by the two encoded secrets. */
export function hmacSha1Signature(baseString: string, consumerSecret: string, tokenSecret: string): string {
  const key = `${rfc5849Encode(consumerSecret)}&${rfc5849Encode(tokenSecret)}`;
  return createHmac('sha1', key).update(baseString).digest('base64');
}
