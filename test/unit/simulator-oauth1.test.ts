import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmacSha1Signature, signatureBaseString } from '../../infra/pam-simulator/oauth1-verify.js';
import { createOAuth1Signer } from '../../lib/pam/oauth1.js';

function parseHeader(header: string): Record<string, string> {
  return Object.fromEntries(
    [...header.matchAll(/([a-z_]+)="([^"]*)"/g)].map((match) => [match[1], decodeURIComponent(match[2] ?? '')]),
  );
}

describe("the simulator's own RFC 5849 verifier (not the product's signer)", () => {
  it('reproduces the base string of RFC 5849 section 3.4.1.1, body pairs, realm and encoded names included', () => {
    const base = signatureBaseString(
      'POST',
      'http',
      'example.com',
      '/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b',
      {
        realm: 'Example',
        oauth_consumer_key: '9djdj82h48djs9d2',
        oauth_token: 'kkk9d7dh3k39sjv7',
        oauth_signature_method: 'HMAC-SHA1',
        oauth_timestamp: '137131201',
        oauth_nonce: '7d8f3e4a',
        oauth_signature: 'left out',
      },
      'c2&a3=2+q',
    );
    expect(base).toBe(
      'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7',
    );
  });

  it('reproduces the signature of RFC 5849 section 1.2, the default port written out', () => {
    const base = signatureBaseString(
      'GET',
      'http',
      'photos.example.net:80',
      '/photos?file=vacation.jpg&size=original',
      {
        oauth_consumer_key: 'dpf43f3p2l4k3l03',
        oauth_token: 'nnch734d00sl2jdk',
        oauth_signature_method: 'HMAC-SHA1',
        oauth_timestamp: '137131202',
        oauth_nonce: 'chapoH',
      },
    );
    expect(hmacSha1Signature(base, 'kd94hf93k423kf44', 'pfkkdhi9sl3r4s00')).toBe('MdpQcU8iPSUjWoN/UDMsK2sui9I=');
  });

  it("keeps a port that is not the scheme's default, and drops the default one", () => {
    const oauth = { oauth_nonce: 'n' };
    expect(signatureBaseString('GET', 'https', 'PAM.example:8443', '/a', oauth)).toContain(
      'https%3A%2F%2Fpam.example%3A8443%2Fa',
    );
    expect(signatureBaseString('GET', 'https', 'pam.example:443', '/a', oauth)).toContain(
      'https%3A%2F%2Fpam.example%2Fa&',
    );
    expect(signatureBaseString('GET', 'http', 'pam.example:443', '/a', oauth)).toContain(
      'http%3A%2F%2Fpam.example%3A443%2Fa',
    );
  });

  it("agrees with the product's headers for any credentials, method, port, path and query", () => {
    const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(
        fc.record({ consumerKey: text, consumerSecret: text, tokenKey: text, tokenSecret: text }),
        fc.constantFrom('GET', 'DELETE', 'POST'),
        fc.constantFrom('http', 'https'),
        fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 65_535 })),
        fc.array(fc.tuple(text, fc.string({ unit: 'grapheme', maxLength: 8 })), { maxLength: 4 }),
        (credentials, method, scheme, port, query) => {
          const url = new URL(
            `${scheme}://pam.example.test${port === undefined ? '' : `:${port}`}/iso/session/drop/ab%40c`,
          );
          for (const [name, value] of query) url.searchParams.append(name, value);
          const header = parseHeader(createOAuth1Signer(credentials)({ method, url }));
          const base = signatureBaseString(method, scheme, url.host, `${url.pathname}${url.search}`, header);
          expect(hmacSha1Signature(base, credentials.consumerSecret, credentials.tokenSecret)).toBe(
            header.oauth_signature,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
