import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createOAuth1Signer } from '../../lib/pam/oauth1.js';
import { oauth1Signature } from '../support/oauth1-reference.js';

// RFC 5849 section 1.2 (and its OAuth Core 1.0 predecessor, which also sent oauth_version).
const photos = {
  credentials: {
    consumerKey: 'dpf43f3p2l4k3l03',
    consumerSecret: 'kd94hf93k423kf44',
    tokenKey: 'nnch734d00sl2jdk',
    tokenSecret: 'pfkkdhi9sl3r4s00',
  },
  request: { method: 'GET', url: 'http://photos.example.net/photos?file=vacation.jpg&size=original' },
  oauth: {
    oauth_consumer_key: 'dpf43f3p2l4k3l03',
    oauth_token: 'nnch734d00sl2jdk',
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: '137131202',
    oauth_nonce: 'chapoH',
  },
};

function parseHeader(header: string): Record<string, string> {
  return Object.fromEntries(
    [...header.matchAll(/([a-z_]+)="([^"]*)"/g)].map((match) => [match[1], decodeURIComponent(match[2] ?? '')]),
  );
}

describe('OAuth 1.0a HMAC-SHA1 signing', () => {
  it('reproduces the signature of RFC 5849 section 1.2, query parameters included', () => {
    expect(oauth1Signature(photos.credentials, photos.request, photos.oauth)).toBe('MdpQcU8iPSUjWoN/UDMsK2sui9I=');
  });

  it('reproduces the OAuth Core 1.0 example, which adds oauth_version', () => {
    const core10 = {
      ...photos.oauth,
      oauth_timestamp: '1191242096',
      oauth_nonce: 'kllo9940pd9333jh',
      oauth_version: '1.0',
    };
    expect(oauth1Signature(photos.credentials, photos.request, core10)).toBe('tR3+Ty81lMeYAr/Fid0kMTYa/WM=');
  });

  it('signs the query of RFC 5849 section 3.4.1.1, with encoded names and repeated keys, like the spec', async () => {
    // The spec's base string for this request; the form body (c2&a3=2+q) is moved into the query, as it is signed alike.
    const { createHmac } = await import('node:crypto');
    const credentials = {
      consumerKey: '9djdj82h48djs9d2',
      consumerSecret: 'j49sk3j29djd',
      tokenKey: 'kkk9d7dh3k39sjv7',
      tokenSecret: 'dh893hdasih9',
    };
    const oauth = {
      oauth_consumer_key: '9djdj82h48djs9d2',
      oauth_token: 'kkk9d7dh3k39sjv7',
      oauth_signature_method: 'HMAC-SHA1',
      oauth_timestamp: '137131201',
      oauth_nonce: '7d8f3e4a',
    };
    const baseString =
      'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7';
    const expected = createHmac('sha1', 'j49sk3j29djd&dh893hdasih9').update(baseString).digest('base64');
    const url = 'http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b&c2&a3=2+q';
    expect(oauth1Signature(credentials, { method: 'POST', url }, oauth)).toBe(expected);
  });

  it('puts every protocol parameter in the Authorization header, with a fresh nonce each time', () => {
    const sign = createOAuth1Signer(photos.credentials);
    const first = parseHeader(sign(photos.request));
    const second = parseHeader(sign(photos.request));
    expect(first).toMatchObject({
      oauth_consumer_key: 'dpf43f3p2l4k3l03',
      oauth_token: 'nnch734d00sl2jdk',
      oauth_signature_method: 'HMAC-SHA1',
      oauth_version: '1.0',
    });
    expect(Math.abs(Number(first.oauth_timestamp) - Date.now() / 1000)).toBeLessThan(5);
    expect(first.oauth_nonce).not.toBe(second.oauth_nonce);
    const { oauth_signature: signature, ...parameters } = first;
    expect(signature).toBe(oauth1Signature(photos.credentials, photos.request, parameters));
  });

  it('makes headers the oauth-1.0a library verifies, for any credentials, method, path and query', () => {
    const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 });
    const query = fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.string({ unit: 'grapheme', maxLength: 6 })), {
      maxLength: 5,
    });
    fc.assert(
      fc.property(
        fc.record({ consumerKey: text, consumerSecret: text, tokenKey: text, tokenSecret: text }),
        fc.constantFrom('GET', 'DELETE', 'post'),
        fc.webPath(),
        query,
        (credentials, method, path, pairs) => {
          const url = new URL(`https://PAM.example:443${path.startsWith('/') ? path : `/${path}`}`);
          for (const [name, value] of pairs) url.searchParams.append(name, value);
          const { oauth_signature: signature, ...parameters } = parseHeader(
            createOAuth1Signer(credentials)({ method, url: url.href }),
          );
          expect(parameters).toEqual({
            oauth_consumer_key: credentials.consumerKey,
            oauth_token: credentials.tokenKey,
            oauth_signature_method: 'HMAC-SHA1',
            oauth_version: '1.0',
            oauth_nonce: expect.stringMatching(/^[0-9a-f]{32}$/),
            oauth_timestamp: expect.stringMatching(/^\d{10}$/),
          });
          expect(signature).toBe(oauth1Signature(credentials, { method, url: url.href }, parameters));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('sorts a repeated parameter by its values, whatever their order in the query (RFC 5849 3.4.1.3.2)', () => {
    const sign = createOAuth1Signer(photos.credentials);
    for (const url of [
      'http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b&c2&a3=2+q',
      'https://pam.example/api/session/remotesessions?a=2&a=1&b=z&b=y&b=x',
    ]) {
      const { oauth_signature: signature, ...parameters } = parseHeader(sign({ method: 'GET', url }));
      expect(signature).toBe(oauth1Signature(photos.credentials, { method: 'GET', url }, parameters));
    }
  });

  it('signs the method and the path, so a signature cannot be replayed on another session', () => {
    const sign = createOAuth1Signer(photos.credentials);
    const header = parseHeader(sign({ method: 'DELETE', url: 'https://pam.example/iso/session/drop/abc' }));
    const { oauth_signature: signature, ...parameters } = header;
    expect(
      oauth1Signature(
        photos.credentials,
        { method: 'DELETE', url: 'https://pam.example/iso/session/drop/abd' },
        parameters,
      ),
    ).not.toBe(signature);
    expect(
      oauth1Signature(
        photos.credentials,
        { method: 'GET', url: 'https://pam.example/iso/session/drop/abc' },
        parameters,
      ),
    ).not.toBe(signature);
  });
});
