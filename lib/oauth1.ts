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

/** Builds an OAuth 1.0a (RFC 5849) HMAC-SHA1 client for the given credentials. */
export function createOAuthClient(credentials: Pick<OAuth1Credentials, 'consumerKey' | 'consumerSecret'>): OAuth {
  const client = new OAuth({
    consumer: { key: credentials.consumerKey, secret: credentials.consumerSecret },
    signature_method: 'HMAC-SHA1',
    hash_function: hmacSha1,
  });
  // The library's nonce comes from Math.random; a nonce must never repeat, so take it from the CSPRNG.
  client.getNonce = () => randomBytes(16).toString('hex');
  return client;
}

/** Returns a function producing a fresh `Authorization` header (new nonce and timestamp) on every call. */
export function createOAuth1Signer(credentials: OAuth1Credentials): OAuth1Signer {
  const client = createOAuthClient(credentials);
  const token = { key: credentials.tokenKey, secret: credentials.tokenSecret };
  return ({ method, url }) => client.toHeader(client.authorize({ method, url }, token)).Authorization;
}
