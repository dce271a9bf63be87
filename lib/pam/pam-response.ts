import * as z from 'zod/mini';
import { PamApiError } from './pam-errors.js';

const flag = z.nullish(z.union([z.boolean(), z.number(), z.string()]));
const code = z.nullish(z.union([z.number(), z.string()]));
const words = z.nullish(z.union([z.string(), z.number()]));

// The envelope PAM wraps every answer in; English and Portuguese twins of each field exist.
const envelopeSchema = z.object({
  response: z.object({
    status: code,
    message: words,
    mensagem: words,
    detail: words,
    error: flag,
    erro: flag,
    error_code: code,
    cod_erro: code,
  }),
});

const gatewayBodySchema = z.object({ message: z.string() });

/** Statuses after which a fresh attempt may well succeed and cannot do harm twice. */
const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

const MAX_QUOTED = 200;

function isTrue(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 'true';
}

function toNumber(value: unknown): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

/**
 * What a gateway or PAM may echo back that is a credential: an Authorization header's value, a
 * bearer token, OAuth 1.0a parameters, an OAuth 2.0 client secret or token. Removed before a
 * message is quoted anywhere (an error, a log line, a response).
 */
const CREDENTIALS: Array<[RegExp, string]> = [
  [
    /\b(authorization)\s*[:=]\s*("[^"]*"|(?:(?:OAuth|Bearer|Basic)\s+)?[^\s,;]+(?:\s*,\s*oauth_\w+="[^"]*")*)/gi,
    '$1: [redacted]',
  ],
  [/\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*/gi, '$1 [redacted]'],
  [/\b(oauth_\w+)\s*=\s*("[^"]*"|[^\s,&;"]+)/gi, '$1=[redacted]'],
  [
    /\b(client_secret|access_token|refresh_token|token_secret|consumer_secret)("?\s*[:=]\s*"?)[^\s,&;"]+/gi,
    '$1$2[redacted]',
  ],
];

export function redactCredentials(text: string): string {
  return CREDENTIALS.reduce((redacted, [pattern, replacement]) => redacted.replace(pattern, replacement), text);
}

function quote(value: string): string {
  const oneLine = redactCredentials(value).replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_QUOTED ? `${oneLine.slice(0, MAX_QUOTED)}…` : oneLine;
}

function describeBody(body: string, contentType: string | undefined): string {
  if (body.trim() === '') return 'an empty body';
  if (/html/i.test(contentType ?? '') || /^\s*</.test(body)) return 'an HTML page instead of JSON';
  return `a body that is not valid JSON (${body.length} bytes, possibly truncated)`;
}

/**
 * Decides success from the HTTP status AND PAM's envelope, never from message text
 * (the success message differs per version and language). Returns the parsed body on success.
 */
export function parsePamResponse(
  status: number,
  contentType: string | undefined,
  body: string,
): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    // No cause: the parser's message quotes the body, which may hold a password (the credential API).
    throw new PamApiError({
      kind: status === 401 ? 'unauthorized' : 'bad_response',
      status,
      retryable: RETRYABLE_STATUSES.has(status),
      message: `PAM Core answered HTTP ${status} with ${describeBody(body, contentType)}`,
    });
  }
  return checkPamEnvelope(status, json);
}

/** The envelope half of parsePamResponse, for a body already parsed (or streamed). */
export function checkPamEnvelope(status: number, json: unknown): Record<string, unknown> {
  const statusOk = status >= 200 && status < 300;
  const retryable = RETRYABLE_STATUSES.has(status);
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) {
    const gateway = gatewayBodySchema.safeParse(json);
    const said = gateway.success ? `: ${quote(gateway.data.message)}` : '';
    throw new PamApiError({
      kind: status === 401 ? 'unauthorized' : 'bad_response',
      status,
      retryable,
      pamMessage: gateway.success ? quote(gateway.data.message) : undefined,
      message: statusOk
        ? `PAM Core answered HTTP ${status} without its response envelope`
        : `PAM Core's gateway answered HTTP ${status} without PAM's response envelope${said}`,
    });
  }

  const response = envelope.data.response;
  const envelopeStatus = toNumber(response.status);
  const failed =
    !statusOk ||
    isTrue(response.error) ||
    isTrue(response.erro) ||
    (envelopeStatus !== undefined && envelopeStatus >= 400);
  if (!failed) return json as Record<string, unknown>;

  const pamErrorCode = toNumber(response.error_code) ?? toNumber(response.cod_erro);
  const pamText = [response.message, response.mensagem, response.detail].find(
    (value) => value !== undefined && value !== null && String(value).trim() !== '',
  );
  const pamMessage = pamText === undefined ? undefined : quote(String(pamText));
  const codePart = pamErrorCode === undefined ? '' : ` (error_code ${pamErrorCode})`;
  throw new PamApiError({
    kind: status === 401 ? 'unauthorized' : 'rejected',
    status,
    retryable,
    pamErrorCode,
    pamMessage,
    message: `PAM Core answered HTTP ${status}${codePart}: ${pamMessage ?? 'no message'}`,
  });
}
