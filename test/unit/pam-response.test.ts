import { describe, expect, it } from 'vitest';
import { PamApiError } from '../../lib/pam/pam-errors.js';
import { parsePamResponse } from '../../lib/pam/pam-response.js';

const envelope = (fields: Record<string, unknown>) => JSON.stringify({ response: fields });

// The vendor's documented answers to DELETE /iso/session/drop/{session_id}.
const dropOk = envelope({
  status: 200,
  message: 'Sessão interrompida com sucesso',
  error: false,
  error_code: 0,
  detail: '',
  mensagem: 'Sessão interrompida com sucesso',
  erro: false,
  cod_erro: 0,
});
const dropFailed = envelope({
  status: 500,
  message: 'An error occurred while droping session',
  error: true,
  error_code: 1,
  detail: '',
  mensagem: 'An error occurred while droping session',
  erro: true,
  cod_erro: 1,
});

function failure(status: number, body: string, contentType = 'application/json'): PamApiError {
  try {
    parsePamResponse(status, contentType, body);
  } catch (error) {
    if (error instanceof PamApiError) return error;
    throw error;
  }
  throw new Error('expected a PamApiError');
}

describe('parsePamResponse', () => {
  it('accepts the documented success whatever language the message is in', () => {
    for (const message of [
      'Sessão interrompida com sucesso',
      'Session dropped successfully',
      'Sessão encerrada com sucesso',
      '',
    ]) {
      const body = envelope({ status: 200, message, error: false, error_code: 0 });
      expect(parsePamResponse(200, 'application/json', body)).toHaveProperty('response');
    }
    expect(parsePamResponse(200, 'application/json', dropOk)).toHaveProperty('response.erro', false);
  });

  it('turns the documented 500 into a typed, non-retryable error with PAM code and message', () => {
    const error = failure(500, dropFailed);
    expect(error).toMatchObject({
      kind: 'rejected',
      status: 500,
      pamErrorCode: 1,
      pamMessage: 'An error occurred while droping session',
      retryable: false,
      code: 'pam_rejected',
      httpStatus: 502,
    });
    expect(error.message).toBe('PAM Core answered HTTP 500 (error_code 1): An error occurred while droping session');
  });

  it('does not trust HTTP 200 alone: an error flag in the envelope fails, in English or Portuguese fields', () => {
    expect(failure(200, envelope({ status: 200, error: true, error_code: 7, message: 'nope' }))).toMatchObject({
      kind: 'rejected',
      pamErrorCode: 7,
    });
    expect(failure(200, envelope({ erro: true, cod_erro: 9, mensagem: 'Falhou' }))).toMatchObject({
      pamErrorCode: 9,
      pamMessage: 'Falhou',
    });
    expect(failure(200, envelope({ status: '500', error: 'false' }))).toMatchObject({ kind: 'rejected' });
    expect(failure(200, envelope({ status: 200, error: 1 }))).toMatchObject({ kind: 'rejected' });
  });

  it('does not trust a success envelope behind an error status', () => {
    expect(failure(503, dropOk)).toMatchObject({ kind: 'rejected', status: 503, retryable: true });
  });

  it('explains the Kong gateway body, which has no envelope', () => {
    const error = failure(404, '{"message":"No route matched with those values"}');
    expect(error).toMatchObject({
      kind: 'bad_response',
      status: 404,
      retryable: false,
      pamMessage: 'No route matched with those values',
    });
    expect(error.message).toBe(
      "PAM Core's gateway answered HTTP 404 without PAM's response envelope: No route matched with those values",
    );
  });

  it('classifies a 401 as refused credentials, with or without a body it can read', () => {
    expect(failure(401, '{"message":"Client authentication failed"}')).toMatchObject({
      kind: 'unauthorized',
      status: 401,
    });
    expect(failure(401, '')).toMatchObject({ kind: 'unauthorized' });
    expect(failure(401, dropFailed)).toMatchObject({ kind: 'unauthorized' });
  });

  it.each([
    [
      'an HTML error page',
      502,
      '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>',
      'text/html',
      'an HTML page instead of JSON',
      true,
    ],
    [
      'an HTML page labelled JSON',
      200,
      '<!DOCTYPE html><p>Login</p>',
      'application/json',
      'an HTML page instead of JSON',
      false,
    ],
    ['an empty body', 504, '', 'application/json', 'an empty body', true],
    ['whitespace', 200, ' \n ', 'application/json', 'an empty body', false],
    [
      'truncated JSON',
      200,
      '{"code":200,"response":{"status":200,"mess',
      'application/json',
      'a body that is not valid JSON (42 bytes, possibly truncated)',
      false,
    ],
  ])('gives a clear error for %s', (_label, status, body, contentType, said, retryable) => {
    const error = failure(status, body, contentType);
    expect(error.kind).toBe('bad_response');
    expect(error.retryable).toBe(retryable);
    expect(error.message).toBe(`PAM Core answered HTTP ${status} with ${said}`);
  });

  it.each([['null'], ['[]'], ['"ok"'], ['42'], ['{}'], ['{"response":null}'], ['{"response":"ok"}']])(
    'refuses %s as an answer, success status or not',
    (body) => {
      expect(failure(200, body)).toMatchObject({
        kind: 'bad_response',
        message: 'PAM Core answered HTTP 200 without its response envelope',
      });
      expect(failure(500, body).kind).toBe('bad_response');
    },
  );

  it('marks exactly 429, 502, 503 and 504 as retryable', () => {
    const retryable = [400, 403, 404, 409, 429, 500, 501, 502, 503, 504].filter(
      (status) => failure(status, dropFailed).retryable,
    );
    expect(retryable).toEqual([429, 502, 503, 504]);
  });

  it('shortens a long gateway message to one line', () => {
    const error = failure(502, JSON.stringify({ message: `line one\n${'x'.repeat(500)}` }));
    expect(error.pamMessage?.length).toBeLessThanOrEqual(201);
    expect(error.pamMessage).not.toContain('\n');
  });

  it.each([
    [
      'an Authorization header',
      'No route matched; got Authorization: OAuth oauth_consumer_key="ck-123", oauth_signature="c2lnbg%3D%3D"',
    ],
    ['a bearer token', 'Invalid token: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln'],
    ['OAuth parameters', 'signature mismatch for oauth_token=tk-456&oauth_signature=abc%2B'],
    ['a client secret', 'bad request {"client_id":"app","client_secret":"s3cret-value"}'],
  ])('never quotes %s a gateway echoes back', (_what, message) => {
    const error = failure(401, JSON.stringify({ message }));
    for (const secret of ['ck-123', 'c2lnbg', 'eyJhbGciOiJSUzI1NiJ9', 'tk-456', 'abc%2B', 's3cret-value']) {
      expect(error.message).not.toContain(secret);
      expect(error.pamMessage ?? '').not.toContain(secret);
    }
    expect(error.message).toContain('[redacted]');
  });
});

describe('what PAM says, read to the letter (mutation survivors, issue 24)', () => {
  it('reads each form of a true error flag, and only those', () => {
    for (const flag of [true, 1, '1', 'true']) {
      expect(failure(200, envelope({ status: 200, error: flag })).kind).toBe('rejected');
      expect(failure(200, envelope({ status: 200, erro: flag })).kind).toBe('rejected');
    }
    for (const flag of [false, 0, '0', 'false', '', null]) {
      expect(
        parsePamResponse(200, 'application/json', envelope({ status: 200, error: flag, erro: flag })),
      ).toBeTruthy();
    }
  });

  it('takes an envelope status of 400 or more for a failure, whatever the HTTP status', () => {
    expect(failure(200, envelope({ status: 400, message: 'Bad request' })).message).toBe(
      'PAM Core answered HTTP 200: Bad request',
    );
    expect(parsePamResponse(200, 'application/json', envelope({ status: 399 }))).toBeTruthy();
    expect(parsePamResponse(200, 'application/json', envelope({ status: '' }))).toBeTruthy();
  });

  it('trusts only a 2xx HTTP status', () => {
    expect(parsePamResponse(200, 'application/json', dropOk)).toBeTruthy();
    expect(parsePamResponse(299, 'application/json', dropOk)).toBeTruthy();
    expect(failure(300, dropOk)).toMatchObject({ kind: 'rejected', status: 300 });
    expect(failure(199, dropOk)).toMatchObject({ kind: 'rejected', status: 199 });
  });

  it('gives no error code where PAM gives none, and the Portuguese one where the English one is empty', () => {
    for (const code of [null, '', undefined]) {
      const error = failure(200, envelope({ status: 200, error: true, error_code: code, message: 'nope' }));
      expect(error.pamErrorCode).toBeUndefined();
      expect(error.message).toBe('PAM Core answered HTTP 200: nope');
    }
    expect(failure(200, envelope({ error: true, error_code: null, cod_erro: 5 })).pamErrorCode).toBe(5);
    expect(failure(200, envelope({ error: true, error_code: '', cod_erro: '6' })).pamErrorCode).toBe(6);
  });

  it('quotes the first message that says something, and says when none does', () => {
    for (const empty of [null, '', '   ']) {
      const error = failure(500, envelope({ error: true, message: empty, mensagem: 'Falhou' }));
      expect(error.pamMessage).toBe('Falhou');
    }
    const silent = failure(500, envelope({ error: true, message: null, detail: '  ' }));
    expect(silent.pamMessage).toBeUndefined();
    expect(silent.message).toBe('PAM Core answered HTTP 500: no message');
  });

  it('quotes a message on one line with single spaces, trimmed, cut after 200 characters only', () => {
    const spaced = failure(502, JSON.stringify({ message: '  bad\n\n  gateway\t here  ' }));
    expect(spaced.pamMessage).toBe('bad gateway here');
    const exact = 'x'.repeat(200);
    expect(failure(502, JSON.stringify({ message: exact })).pamMessage).toBe(exact);
    expect(failure(502, JSON.stringify({ message: `${exact}yz` })).pamMessage).toBe(`${exact}…`);
  });

  it('says HTML only of a body that starts as a page, spaces before it or not', () => {
    expect(failure(502, ' \n<html><body>Bad Gateway</body></html>').message).toBe(
      'PAM Core answered HTTP 502 with an HTML page instead of JSON',
    );
    expect(failure(502, 'upstream said <b>no</b>').message).toBe(
      'PAM Core answered HTTP 502 with a body that is not valid JSON (23 bytes, possibly truncated)',
    );
  });

  it('says only that the envelope is missing when a gateway gives no message either', () => {
    expect(failure(500, '{}').message).toBe("PAM Core's gateway answered HTTP 500 without PAM's response envelope");
  });
});
