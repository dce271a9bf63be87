import { createHmac } from 'node:crypto';
import OAuth from 'oauth-1.0a';
import type { OAuth1Credentials, SignableRequest } from '../../lib/pam/oauth1.js';

/**
 * The `oauth-1.0a` library's signature, the reference the product's signer (lib/pam/oauth1.ts) is held
 * to. The library percent-encodes query keys found in the URL without decoding them first, so "c%40"
 * would be signed as "c%2540": it is handed the decoded query parameters (RFC 5849 3.4.1.3.1) as data
 * instead, and the bare base URL.
 */
export function oauth1Signature(
  credentials: OAuth1Credentials,
  { method, url }: SignableRequest,
  oauthParameters: Record<string, string>,
): string {
  const parsed = new URL(url.toString());
  const data: Record<string, string | string[]> = {};
  for (const [name, value] of parsed.searchParams) {
    const previous = data[name];
    data[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  const client = new OAuth({
    consumer: { key: credentials.consumerKey, secret: credentials.consumerSecret },
    signature_method: 'HMAC-SHA1',
    hash_function: (baseString, key) => createHmac('sha1', key).update(baseString).digest('base64'),
  });
  return client.getSignature(
    { method: method.toUpperCase(), url: `${parsed.origin}${parsed.pathname}`, data },
    credentials.tokenSecret,
    oauthParameters as never,
  );
}
