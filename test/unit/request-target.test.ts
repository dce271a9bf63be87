import { urlToHttpOptions } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createOAuth1Signer } from '../../lib/pam/oauth1.js';
import { requestTarget } from '../../lib/pam/request-target.js';
import { oauth1Signature } from '../support/oauth1-reference.js';

type Built = Pick<URL, 'origin' | 'pathname' | 'search'> & { http: ReturnType<typeof urlToHttpOptions> };

/** What a request covers (origin, path, query) and where node:http sends it, or that it cannot be built. */
function covered(build: () => Built) {
  try {
    const { origin, pathname, search, http } = build();
    const { protocol, hostname, port, path, auth } = http;
    return { origin, pathname, search, http: { protocol, hostname, port, path, auth } };
  } catch {
    return 'Invalid URL';
  }
}

const fromUrl = (base: string, path: string) =>
  covered(() => {
    const url = new URL(`${base}${path}`);
    return { origin: url.origin, pathname: url.pathname, search: url.search, http: urlToHttpOptions(url) };
  });

const target = (base: string, path: string) => covered(() => requestTarget(base, path));

const BASES = [
  'https://pam.example.com',
  'https://pam.example.com:8443',
  'https://pam.example.com/segura',
  'https://pam.example.com/segura/a2a',
  'https://pam.example.com/seg.ura',
  'https://pam.example.com/%7Bx%7D',
  'https://pam.example.com/?tenant=1',
  'https://user:pw@pam.example.com',
  'http://127.0.0.1:8080',
  'http://[::1]:8080',
  'http://localhost',
  // Written otherwise than a parser writes them: what follows the base changes what appending a path gives.
  'https://pam.example.com?',
  'https://pam.example.com#',
  'https://pam.example.com\\',
  'https://pam.example.com/segura ',
  'https://pam.example.com/segura\u0001',
  'https://pam.example.com ',
  'https://PAM.example.com/segura',
  'https://pam.example.com:443/segura',
  'https://pam.example.com/%73egura',
];

const PATHS = [
  '/iso/session/drop/0a1b2c3d4e5f60718293a4b5c6d7e8f901234567',
  '/iso/session/drop/A_b-9',
  '/api/session/remotesessions',
  '/api/session/remotesessions/42',
  '/api/pam/credential/custody/7',
  '/a/./b',
  '/a/../b',
  '/a//b',
  '/a/',
  '/a/{session_id}',
  '/a/b%2Fc',
  '/api/session/remotesessions?page=2&size=50',
  '/a/b#c',
  '/a/ b',
  '/a/é',
];

describe('request targets', () => {
  it('are what new URL(base + path) gives, for the signature and for node:http', () => {
    for (const base of BASES) {
      for (const path of PATHS) expect(target(base, path), `${base} + ${path}`).toEqual(fromUrl(base, path));
    }
  });

  it('are what new URL(base + path) gives, whatever the path (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...BASES), fc.webPath(), fc.webQueryParameters(), (base, webPath, query) => {
        const path = `${webPath.startsWith('/') ? webPath : `/${webPath}`}${query ? `?${query}` : ''}`;
        expect(target(base, path)).toEqual(fromUrl(base, path));
      }),
      { numRuns: 500 },
    );
  });

  it('are signed as their URL is: the query is part of the signature', () => {
    const credentials = { consumerKey: 'ck', consumerSecret: 'cs', tokenKey: 'tk', tokenSecret: 'ts' };
    const sign = createOAuth1Signer(credentials);
    for (const path of ['/iso/session/drop/abc', '/api/session/remotesessions?b=2&a=1']) {
      const url = `https://pam.example.com/segura${path}`;
      const header = sign({ method: 'GET', url: requestTarget('https://pam.example.com/segura', path) });
      const { oauth_signature: signature, ...parameters } = Object.fromEntries(
        [...header.matchAll(/([a-z_]+)="([^"]*)"/g)].map((match) => [match[1], decodeURIComponent(match[2] ?? '')]),
      );
      expect(signature).toBe(oauth1Signature(credentials, { method: 'GET', url }, parameters));
    }
  });
});
