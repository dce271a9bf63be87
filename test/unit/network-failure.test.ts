import { describe, expect, it } from 'vitest';
import { errorCode, networkFailure } from '../../lib/pam/network-failure.js';

const nodeError = (code: string) => Object.assign(new Error(`${code} from Node`), { code });

describe('what a failed connection to the PAM Core is called', () => {
  it.each([
    ['our own time limit (a TimeoutError)', new DOMException('no answer within 300 ms', 'TimeoutError')],
    ['an aborted signal (an AbortError)', new DOMException('This operation was aborted', 'AbortError')],
    ["Node's client aborted (ABORT_ERR)", nodeError('ABORT_ERR')],
  ])('calls %s a timeout, which may be tried again', (_what, error) => {
    expect(networkFailure(error, 300)).toMatchObject({
      kind: 'timeout',
      retryable: true,
      message: 'PAM Core did not answer within 300 ms',
      cause: error,
    });
  });

  it.each([
    'CERT_HAS_EXPIRED',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'SELF_SIGNED_CERT_IN_CHAIN',
  ])('calls %s a TLS failure, never tried again: the next attempt would meet the same certificate', (code) => {
    const error = nodeError(code);
    expect(networkFailure(error, 300)).toMatchObject({ kind: 'tls', retryable: false, cause: error });
  });

  it('calls anything else unreachable, by its code, and names an error without one', () => {
    expect(networkFailure(nodeError('ECONNREFUSED'), 300)).toMatchObject({
      kind: 'unreachable',
      retryable: true,
      message: 'Could not reach the PAM Core (ECONNREFUSED)',
    });
    expect(networkFailure({}, 300).message).toBe('Could not reach the PAM Core (unknown error)');
    expect(errorCode(undefined)).toBe('unknown error');
  });
});
