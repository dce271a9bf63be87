import * as z from 'zod/mini';
import { ValidationError } from '../core/errors.js';
import { pamSettings } from '../core/settings.js';
import { type PamResponse, readText } from './http-transport.js';
import { callPam, type Operation, type PamCallOptions, type ResponseReader, readEnvelope } from './pam-client.js';
import { PamApiError } from './pam-errors.js';
import { checkPamEnvelope, parsePamResponse } from './pam-response.js';
import type { PamConnection } from './pam-secret.js';

/**
 * The PAM Core's A2A credential API (docs/containment.md), under the secret's credential_path
 * (`/api/pam/credential`, or `/iso/pam/credential` on older versions). Every call is signed, retried
 * and checked like the session calls (pam-client.ts); credentials are always named by numeric id,
 * never by `username@hostname`, which a username holding `@` would break.
 */

/** A credential as the list names it: what a session's credential and device are matched against. */
export interface PamCredential {
  id: string;
  username: string;
  hostname: string | null;
  ip: string | null;
}

/** PAM's numeric credential id; anything else is refused before a request is built. */
export const credentialIdSchema = z
  .string({ error: 'the credential id must be a string' })
  .check(z.regex(/^[0-9]{1,18}$/, 'the credential id must be PAM’s numeric id (digits only)'));

export function parseCredentialId(value: unknown): string {
  const parsed = credentialIdSchema.safeParse(typeof value === 'number' ? String(value) : value);
  if (!parsed.success) throw new ValidationError(parsed.error.issues[0]?.message ?? 'invalid credential id');
  return parsed.data;
}

/** Vendor error codes of the credential API (notes/pam-core-api.md). */
export const CREDENTIAL_ERRORS = {
  notFound: 1007,
  inactive: 1008,
  noAccess: 1009,
  notInCustody: 1018,
  noWritePermission: 1039,
} as const;

/** The vendor code behind a refusal, when PAM gave one. */
export function credentialErrorCode(error: unknown): number | undefined {
  return error instanceof PamApiError ? error.pamErrorCode : undefined;
}

/** The credential list can hold thousands of entries; beyond this it is not read whole. */
const MAX_LIST_BYTES = 32 * 1024 * 1024;

const text = z.nullish(z.union([z.string(), z.number()]));
const listedCredential = z.object({ id: z.union([z.string(), z.number()]), username: text, hostname: text, ip: text });

function credentialsOf(body: Record<string, unknown>): unknown[] {
  // The array's key is not documented: `credentials` is what the list is called in the vendor's pages.
  for (const key of ['credentials', 'credential', 'credenciais']) {
    const value = body[key];
    if (Array.isArray(value)) return value;
  }
  throw new PamApiError({
    kind: 'bad_response',
    retryable: false,
    message: 'PAM Core answered the credential list without a credentials array',
  });
}

const readList: ResponseReader<PamCredential[]> = async (response) => {
  const body = await readText(response.body, MAX_LIST_BYTES);
  if (body === undefined) {
    throw new PamApiError({
      kind: 'bad_response',
      status: response.statusCode,
      retryable: false,
      message: `PAM Core's credential list is larger than ${MAX_LIST_BYTES} bytes`,
    });
  }
  const credentials: PamCredential[] = [];
  for (const entry of credentialsOf(parsePamResponse(response.statusCode, response.contentType, body))) {
    const parsed = listedCredential.safeParse(entry);
    if (!parsed.success || parsed.data.username === null || parsed.data.username === undefined) continue;
    const { id, username, hostname, ip } = parsed.data;
    const optional = (value: string | number | null | undefined) =>
      value === null || value === undefined || String(value).trim() === '' ? null : String(value).trim();
    credentials.push({ id: String(id), username: String(username), hostname: optional(hostname), ip: optional(ip) });
  }
  return credentials;
};

/**
 * Custody's answer holds the credential's password. It is read into buffers that are zeroed as soon
 * as the envelope is checked; only success or PAM's error leaves this function. (The parsed JSON's
 * strings cannot be wiped in JavaScript: they are dropped unreferenced, for the collector.)
 */
const readCustody: ResponseReader<void> = async (response: PamResponse) => {
  const chunks: Buffer[] = [];
  try {
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_LIST_BYTES) break;
      chunks.push(chunk as Buffer);
    }
    const whole = Buffer.concat(chunks);
    chunks.push(whole);
    let json: unknown;
    try {
      json = JSON.parse(whole.toString('utf8'));
    } catch {
      // Never quoted: it may hold the password.
      throw new PamApiError({
        kind: response.statusCode === 401 ? 'unauthorized' : 'bad_response',
        status: response.statusCode,
        retryable: false,
        message: `PAM Core answered custody with HTTP ${response.statusCode} and a body that is not its JSON envelope`,
      });
    }
    checkPamEnvelope(response.statusCode, json);
  } finally {
    for (const chunk of chunks) chunk.fill(0);
    response.body.destroy();
  }
};

function operation(
  name: Operation['name'],
  method: Operation['method'],
  path: (connection: PamConnection) => string,
): Operation {
  return { name, method, path, timeoutMs: pamSettings().credentialTimeoutMs };
}

const one = (id: string) => (connection: PamConnection) => `${connection.credentialPath}/${encodeURIComponent(id)}`;

/** `GET …/credential`: every credential the A2A authorization may see. */
export async function listCredentials(options: PamCallOptions = {}): Promise<PamCredential[]> {
  return callPam(
    operation('credential-list', 'GET', (connection) => connection.credentialPath),
    options,
    readList,
  );
}

/** `GET …/credential/{id}`: takes custody of the credential. Its password is never kept (readCustody). */
export async function takeCustody(id: string, options: PamCallOptions = {}): Promise<void> {
  await callPam(operation('custody', 'GET', one(parseCredentialId(id))), options, readCustody);
}

/** `DELETE …/credential/custody/{id}`: releases custody; where automatic change is configured, PAM changes the password. */
export async function releaseCustody(id: string, options: PamCallOptions = {}): Promise<void> {
  const path = (connection: PamConnection) =>
    `${connection.credentialPath}/custody/${encodeURIComponent(parseCredentialId(id))}`;
  await callPam(operation('custody-release', 'DELETE', path), options, readEnvelope);
}

/** `DELETE …/credential/{id}`: deactivates the credential (nobody can use it until it is activated again). */
export async function deactivateCredential(id: string, options: PamCallOptions = {}): Promise<void> {
  await callPam(operation('deactivate', 'DELETE', one(parseCredentialId(id))), options, readEnvelope);
}

/** `PUT …/credential/{id}`: activates the credential again. */
export async function activateCredential(id: string, options: PamCallOptions = {}): Promise<void> {
  await callPam(operation('activate', 'PUT', one(parseCredentialId(id))), options, readEnvelope);
}
