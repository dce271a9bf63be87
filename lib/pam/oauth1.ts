import { createHmac, randomBytes } from 'node:crypto';
import OAuth from 'oauth-1.0a';

export interface OAuth1Credentials {
  consumerKey: string;
  consumerSecret: string;
  tokenKey: string;
  tokenSecret: string;
}

export interface SignableRequest {
  method: string;
  /** Absolute URL; its query parameters are part of the signature base string. */
  url: string;
}

export type OAuth1Signer = (request: SignableRequest) => string;

function hmacSha1(baseString: string, key: string): string {
  return createHmac('sha1', key).update(baseString).digest('base64');
}

function createOAuthClient(credentials: Pick<OAuth1Credentials, 'consumerKey' | 'consumerSecret'>): OAuth {
  const client = new OAuth({
    consumer: { key: credentials.consumerKey, secret: credentials.consumerSecret },
    signature_method: 'HMAC-SHA1',
    hash_function: hmacSha1,
  });
  // The library's nonce comes from Math.random; a nonce must never repeat, so take it from the CSPRNG.
  client.getNonce = () => randomBytes(16).toString('hex');
  return client;
}

/**
 * The library percent-encodes query keys found in the URL without decoding them first, so
 * "c%40" would be signed as "c%2540". Hand it the decoded query parameters (RFC 5849 3.4.1.3.1)
 * as data instead, and the bare base URL.
 */
function toLibraryRequest({ method, url }: SignableRequest): OAuth.RequestOptions {
  const parsed = new URL(url);
  const data: Record<string, string | string[]> = {};
  for (const [name, value] of parsed.searchParams) {
    const previous = data[name];
    data[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return { method: method.toUpperCase(), url: `${parsed.origin}${parsed.pathname}`, data };
}

/** The RFC 5849 HMAC-SHA1 signature of a request for the given protocol parameters (oauth_signature excluded). */
export function oauth1Signature(
  credentials: OAuth1Credentials,
  request: SignableRequest,
  oauthParameters: Record<string, string>,
): string {
  return createOAuthClient(credentials).getSignature(
    toLibraryRequest(request),
    credentials.tokenSecret,
    oauthParameters as never,
  );
}

/** Returns a function producing a fresh `Authorization` header (new nonce and timestamp) on every call. */
export function createOAuth1Signer(credentials: OAuth1Credentials): OAuth1Signer {
  const client = createOAuthClient(credentials);
  const token = { key: credentials.tokenKey, secret: credentials.tokenSecret };
  return (request) => client.toHeader(client.authorize(toLibraryRequest(request), token)).Authorization;
}
