import { randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { OAuth1Credentials } from '../../lib/pam/oauth1.js';
import { closeServer, listenOnLoopback, withBody } from '../local/loopback-server.js';
import { type CredentialApi, credentialApi } from './credentials.js';
import { envelope } from './envelope.js';
import { hmacSha1Signature, signatureBaseString } from './oauth1-verify.js';
import { pamDuration, pamTimestamp, type SimulatedSession, seedSessions } from './seed-sessions.js';

export interface RecordedRequest {
  method: string;
  path: string;
  endpoint: 'list' | 'drop' | 'lookup' | 'token' | 'credential' | 'other';
  /** The OAuth nonce sent, when there was an Authorization header. */
  nonce: string | undefined;
  status: number;
  /** When the request arrived: epoch milliseconds with sub-millisecond precision, comparable across processes. */
  receivedAt: number;
}

/** A canned misbehaviour for the next request(s) to an endpoint. */
export type Fault =
  /** `endSession`: the drop happens, then the answer is this status anyway (PAM's ambiguous 500). */
  | { kind: 'status'; status: number; body: string | Uint8Array; contentType?: string; endSession?: boolean }
  /**
   * Holds the request `ms`, then serves it if the client still waits. A client that gave up before
   * then is served nothing and nothing is done for it (PAM never got to it), unless `actsFirst`: then
   * the drop happens on arrival and only its response is late (PAM acted; the client gave up first).
   */
  | { kind: 'delay'; ms: number; actsFirst?: boolean }
  | { kind: 'reset' }
  /**
   * Sends the first `afterBytes` bytes of `body` (the list when not given), then cuts the connection.
   * `endSession`: the drop happened before its response broke off.
   */
  | { kind: 'truncate'; afterBytes: number; body?: string; endSession?: boolean }
  /** Sends `body` (the list when not given) a few bytes at a time, pausing between them. */
  | { kind: 'drip'; bytesPerWrite: number; pauseMs: number; body?: string };

export interface PamSimulatorOptions {
  credentials: OAuth1Credentials;
  sessions?: SimulatedSession[];
  listPath?: string;
  dropPath?: string;
  /** One session by numeric id; `{id}` stands for it. */
  lookupPath?: string;
  /** false: a PAM Core without the lookup route (its gateway answers 404 "no Route matched"). */
  lookupRoute?: boolean;
  /** The credential API's root (`/iso/pam/credential` on older versions). */
  credentialPath?: string;
  /** Serve older versions' field names (`credencial`, `dispositivo`). */
  legacyFieldNames?: boolean;
  /**
   * How an open session's `end` is written; sessions take them in turn (by position). The vendor does
   * not document it (../shared/notes/pam-core-api.md), so by default every form the docs allow is served.
   */
  activeEndForms?: ActiveEndForm[];
  /** Also accept OAuth 2.0 bearer tokens, issued by POST /iso/oauth2/token to this client. */
  clientCredentials?: { clientId: string; clientSecret: string };
  tokenLifetimeSeconds?: number;
  port?: number;
  tls?: { key: string; cert: string };
  /** Told of every request as it arrives (the bench times DELETEs by it). */
  onRequest?: (request: RecordedRequest) => void;
}

/** `end` null, missing, `""` or `"0000-00-00 00:00:00"`: the forms an open session may take. */
export type ActiveEndForm = 'null' | 'missing' | 'empty' | 'zero-date';
export const ACTIVE_END_FORMS: readonly ActiveEndForm[] = ['null', 'missing', 'empty', 'zero-date'];

/** Whether a stored session is open: the simulator's own reading of the docs, not the product's. */
export function isOpen(session: Pick<SimulatedSession, 'end'>): boolean {
  const end: unknown = session.end;
  if (end === null || end === undefined) return true;
  return typeof end === 'string' && (end.trim() === '' || end.trim() === '0000-00-00 00:00:00');
}

export interface PamSimulator {
  url: string;
  /** The sessions served (an open one stored with `end: null`); after changing this array directly, call sessionsChanged(). */
  sessions: SimulatedSession[];
  sessionsChanged(): void;
  /** Appends sessions opened now (ids above the others), without rendering the whole list again. */
  openSessions(added: SimulatedSession[]): void;
  requests: RecordedRequest[];
  /** The A2A credential API, its credentials derived from the sessions (credentials.ts). */
  credentialApi: CredentialApi;
  setCredentials(credentials: OAuth1Credentials): void;
  injectFault(endpoint: 'list' | 'drop' | 'lookup' | 'token', fault: Fault, times?: number): void;
  /** OAuth 2.0 tokens issued so far. */
  readonly tokensIssued: number;
  /** Makes every issued token invalid, as a restart or a revocation would. */
  revokeTokens(): void;
  clearFaults(): void;
  /** Resolves once every request received so far has been handled to its end (a delayed one included). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const TIMESTAMP_WINDOW_SECONDS = 300;

/** Parses `OAuth k="v", k2="v2"` into decoded parameters. */
function parseOAuthHeader(header: string): Record<string, string> | undefined {
  if (!/^OAuth\s/i.test(header)) return undefined;
  const params: Record<string, string> = {};
  for (const match of header.slice(6).matchAll(/([A-Za-z0-9_]+)="([^"]*)"/g)) {
    params[decodeURIComponent(match[1] ?? '')] = decodeURIComponent(match[2] ?? '');
  }
  return params;
}

/** The client closed its connection before it was answered. */
function clientGone(res: ServerResponse): boolean {
  return !res.writableEnded && (res.destroyed || res.socket === null || res.socket.destroyed);
}

/** Waits `ms`, or less when the client gives up first. */
async function untilClientGoneOr(res: ServerResponse, ms: number): Promise<void> {
  if (clientGone(res)) return;
  let timer: NodeJS.Timeout | undefined;
  let onClose: () => void = () => undefined;
  await new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    onClose = () => resolve();
    res.once('close', onClose);
  });
  clearTimeout(timer);
  res.off('close', onClose);
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * A loopback stand-in for the PAM Core A2A API: the list and drop endpoints with PAM's envelopes
 * and status codes, verifying every OAuth 1.0a signature (and refusing a replayed nonce).
 */
export async function startPamSimulator(options: PamSimulatorOptions): Promise<PamSimulator> {
  let credentials = options.credentials;
  const sessions = options.sessions ?? seedSessions();
  const listPath = options.listPath ?? '/api/session/remotesessions';
  const [dropPrefix, dropSuffix = ''] = (options.dropPath ?? '/iso/session/drop/{session_id}').split(
    '{session_id}',
  ) as [string, string?];
  const [lookupPrefix, lookupSuffix = ''] = (options.lookupPath ?? '/api/session/remotesessions/{id}').split(
    '{id}',
  ) as [string, string?];
  const requests: RecordedRequest[] = [];
  const faults: Record<'list' | 'drop' | 'lookup' | 'token', Fault[]> = { list: [], drop: [], lookup: [], token: [] };
  const seenNonces = new Set<string>();
  const tokens = new Map<string, number>();
  let tokensIssued = 0;
  const scheme = options.tls ? 'https' : 'http';
  const credentialStore = credentialApi(() => sessions, options.credentialPath);

  function send(res: ServerResponse, status: number, body: unknown): number {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
    return status;
  }

  /** True when the request carries a valid, fresh, never-seen OAuth 1.0a signature for the current credentials. */
  function verify(req: IncomingMessage, params: Record<string, string>): boolean {
    const { oauth_signature: signature, ...oauthData } = params;
    if (
      !signature ||
      oauthData.oauth_consumer_key !== credentials.consumerKey ||
      oauthData.oauth_token !== credentials.tokenKey
    ) {
      return false;
    }
    if (oauthData.oauth_signature_method !== 'HMAC-SHA1' || !oauthData.oauth_nonce) return false;
    if (oauthData.oauth_version !== undefined && oauthData.oauth_version !== '1.0') return false;
    const timestamp = Number(oauthData.oauth_timestamp);
    if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > TIMESTAMP_WINDOW_SECONDS)
      return false;
    const baseString = signatureBaseString(
      req.method ?? 'GET',
      scheme,
      req.headers.host ?? '',
      req.url ?? '/',
      oauthData,
    );
    const expected = hmacSha1Signature(baseString, credentials.consumerSecret, credentials.tokenSecret);
    if (!sameText(expected, signature)) return false;
    if (seenNonces.has(oauthData.oauth_nonce)) return false;
    seenNonces.add(oauthData.oauth_nonce);
    return true;
  }

  /**
   * The list body in parts of RENDER_BATCH records, each rendered once and again only after a session
   * in it changed: a drop in a list of a million does not make the next list render it all again.
   */
  const RENDER_BATCH = 10_000;
  let renderedParts: Array<Buffer | undefined> = [];
  let positionOf: Map<string, number> | undefined;
  // The list's envelope and field order as in ../shared/seeds/002_31771ed22dc073b2.txt ("Listar todas as sessões").
  const listHead = Buffer.from(
    `${JSON.stringify({ code: 200, response: envelope(200, '', 0), tenant: 'Segura' }).slice(0, -1)},"remote_sessions":[`,
  );
  const listTail = Buffer.from(']}');

  const activeEndForms = options.activeEndForms ?? ACTIVE_END_FORMS;

  /** A record as PAM writes it: an open session's `end` in one of the allowed forms, in one field dialect. */
  function asServed(session: SimulatedSession, position: number): unknown {
    // A test may serve records that are no session at all: those go out as they are.
    if (typeof session !== 'object' || session === null || Array.isArray(session)) return session;
    const { end, credential, device, ...rest } = session;
    const form = activeEndForms[position % activeEndForms.length];
    const record: Record<string, unknown> = { ...rest };
    if (!isOpen(session) || form === 'null') record.end = end === undefined ? null : end;
    else if (form === 'empty') record.end = '';
    else if (form === 'zero-date') record.end = '0000-00-00 00:00:00';
    if (options.legacyFieldNames) Object.assign(record, { credencial: credential, dispositivo: device });
    else Object.assign(record, { credential, device });
    return record;
  }

  function renderPart(part: number): Buffer {
    const start = part * RENDER_BATCH;
    const records = sessions
      .slice(start, start + RENDER_BATCH)
      .map((session, offset) => JSON.stringify(asServed(session, start + offset)));
    return Buffer.from(`${start === 0 ? '' : ','}${records.join(',')}`);
  }

  function listParts(): Buffer[] {
    const parts = Math.ceil(sessions.length / RENDER_BATCH);
    const body: Buffer[] = [listHead];
    for (let part = 0; part < parts; part += 1) {
      renderedParts[part] ??= renderPart(part);
      body.push(renderedParts[part] as Buffer);
    }
    body.push(listTail);
    return body;
  }

  /**
   * listParts, giving the event loop a turn after each part it renders: a million sessions take seconds to render,
   * during which nothing else (other requests, Ctrl+C) would run.
   */
  async function listPartsYielding(): Promise<Buffer[]> {
    for (let part = 0; part < Math.ceil(sessions.length / RENDER_BATCH); part += 1) {
      if (renderedParts[part] !== undefined) continue;
      renderedParts[part] = renderPart(part);
      await nextTurn();
    }
    return listParts();
  }

  function renderList(): Buffer {
    return Buffer.concat(listParts());
  }

  function findSession(sessionId: string): SimulatedSession | undefined {
    if (!positionOf) positionOf = new Map(sessions.map((session, index) => [session.session_id, index]));
    const index = positionOf.get(sessionId);
    const session = index === undefined ? undefined : sessions[index];
    return session?.session_id === sessionId ? session : undefined;
  }

  function forgetRendering(): void {
    renderedParts = [];
    positionOf = undefined;
    positionOfId = undefined;
  }

  /** Streams the list in 64 KiB writes, as a large answer arrives; `limit` cuts it short. */
  async function serveList(res: ServerResponse, limit?: number): Promise<number> {
    const parts = await listPartsYielding();
    const length = parts.reduce((sum, part) => sum + part.length, 0);
    const end = limit === undefined ? length : Math.min(limit, length);
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      ...(limit === undefined ? { 'content-length': String(length) } : {}),
    });
    const CHUNK = 64 * 1024;
    let written = 0;
    for (const part of parts) {
      for (let offset = 0; offset < part.length && written < end && !res.destroyed; offset += CHUNK) {
        const slice = part.subarray(offset, Math.min(part.length, offset + CHUNK, offset + end - written));
        written += slice.length;
        if (!res.write(slice)) await once(res, 'drain');
      }
    }
    if (limit === undefined) res.end();
    else {
      // Let what was written reach the client before the connection is cut.
      await new Promise((resolve) => setTimeout(resolve, 20));
      res.socket?.destroy();
    }
    return 200;
  }

  let positionOfId: Map<string, number> | undefined;
  function findById(id: string): SimulatedSession | undefined {
    if (!positionOfId) positionOfId = new Map(sessions.map((session, index) => [session.id, index]));
    const index = positionOfId.get(id);
    const session = index === undefined ? undefined : sessions[index];
    return session?.id === id ? session : undefined;
  }

  /** PAM's one-session lookup: by numeric id only (1003 otherwise), 1002 when there is no such session. */
  function serveLookup(res: ServerResponse, id: string): number {
    if (!/^[0-9]+$/.test(id)) {
      return send(res, 400, { response: envelope(400, '1003: Unexpected identifier type', 1003) });
    }
    const session = findById(id);
    if (!session) return send(res, 400, { response: envelope(400, '1002: Session not found', 1002) });
    return send(res, 200, {
      code: 200,
      response: envelope(200, '', 0),
      remote_session: asServed(session, Number(session.id)),
    });
  }

  function openSessions(added: SimulatedSession[]): void {
    const first = sessions.length;
    sessions.push(...added);
    // Only the last rendered part (and those after it) change.
    renderedParts.length = Math.min(renderedParts.length, Math.floor(first / RENDER_BATCH));
    added.forEach((session, offset) => {
      positionOf?.set(session.session_id, first + offset);
      positionOfId?.set(session.id, first + offset);
    });
  }

  function serveDrop(res: ServerResponse, sessionId: string): number {
    const session = findSession(sessionId);
    // PAM answers the same 500 for a failed drop and for an unknown or already-ended session (the seeds' 500).
    if (!session || !isOpen(session)) {
      return send(res, 500, { response: envelope(500, 'An error occurred while droping session', 1) });
    }
    endSession(session);
    return send(res, 200, { response: envelope(200, 'Sessão interrompida com sucesso', 0) });
  }

  function endSession(session: SimulatedSession): void {
    const index = positionOf?.get(session.session_id);
    if (index === undefined) forgetRendering();
    else renderedParts[Math.floor(index / RENDER_BATCH)] = undefined;
    const now = Date.now();
    session.end = pamTimestamp(new Date(now));
    session.time = pamDuration(Date.parse(`${session.start.replace(' ', 'T')}Z`), now);
  }

  async function applyFault(
    fault: Fault,
    res: ServerResponse,
    sessionId: string | undefined,
  ): Promise<number | undefined> {
    if (fault.kind === 'delay') {
      const open = sessionId === undefined ? undefined : findSession(sessionId);
      if (fault.actsFirst && open && isOpen(open)) endSession(open);
      await untilClientGoneOr(res, fault.ms);
      if (clientGone(res)) return 0;
      if (!fault.actsFirst) return undefined;
      if (sessionId !== undefined)
        return send(res, 200, { response: envelope(200, 'Sessão interrompida com sucesso', 0) });
      return undefined;
    }
    if (fault.kind === 'reset') {
      res.socket?.destroy();
      return 0;
    }
    if (fault.kind === 'truncate' && fault.body !== undefined) {
      const open = sessionId === undefined ? undefined : findSession(sessionId);
      if (fault.endSession && open && isOpen(open)) endSession(open);
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(fault.body)),
      });
      res.write(Buffer.from(fault.body).subarray(0, fault.afterBytes));
      await new Promise((resolve) => setTimeout(resolve, 20));
      res.socket?.destroy();
      return 200;
    }
    if (fault.kind === 'truncate') return serveList(res, fault.afterBytes);
    if (fault.kind === 'drip') {
      const body = fault.body === undefined ? renderList() : Buffer.from(fault.body);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length) });
      for (let offset = 0; offset < body.length && !res.destroyed; offset += fault.bytesPerWrite) {
        res.write(body.subarray(offset, offset + fault.bytesPerWrite));
        await new Promise((resolve) => setTimeout(resolve, fault.pauseMs));
      }
      res.end();
      return 200;
    }
    const found = sessionId === undefined ? undefined : findSession(sessionId);
    const session = found && isOpen(found) ? found : undefined;
    if (fault.endSession && session) endSession(session);
    res.writeHead(fault.status, { 'content-type': fault.contentType ?? 'application/json' });
    res.end(fault.body);
    return fault.status;
  }

  function issueToken(res: ServerResponse, body: string): number {
    const form = new URLSearchParams(body);
    const client = options.clientCredentials;
    if (
      !client ||
      form.get('grant_type') !== 'client_credentials' ||
      !sameText(form.get('client_id') ?? '', client.clientId) ||
      !sameText(form.get('client_secret') ?? '', client.clientSecret)
    ) {
      return send(res, 401, { message: 'Client authentication failed' });
    }
    const lifetime = options.tokenLifetimeSeconds ?? 3600;
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, Date.now() + lifetime * 1000);
    tokensIssued += 1;
    return send(res, 200, { token_type: 'Bearer', expires_in: lifetime, access_token: token });
  }

  function validBearer(header: string): boolean {
    const expiresAt = tokens.get(header.slice('Bearer '.length));
    return expiresAt !== undefined && Date.now() < expiresAt;
  }

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    body: string,
    receivedAt: number,
  ): Promise<RecordedRequest> {
    const path = new URL(req.url ?? '/', 'http://simulator').pathname;
    const dropId =
      path.startsWith(dropPrefix) && path.endsWith(dropSuffix)
        ? decodeURIComponent(path.slice(dropPrefix.length, path.length - dropSuffix.length))
        : undefined;
    const lookupId =
      options.lookupRoute !== false && path.startsWith(lookupPrefix) && path.endsWith(lookupSuffix)
        ? decodeURIComponent(path.slice(lookupPrefix.length, path.length - lookupSuffix.length))
        : undefined;
    const endpoint =
      req.method === 'GET' && path === listPath
        ? 'list'
        : req.method === 'DELETE' && dropId
          ? 'drop'
          : req.method === 'GET' && lookupId && !lookupId.includes('/')
            ? 'lookup'
            : req.method === 'POST' && path === '/iso/oauth2/token'
              ? 'token'
              : credentialStore.handles(path)
                ? 'credential'
                : 'other';
    const header = req.headers.authorization;
    const oauth = header ? parseOAuthHeader(header) : undefined;
    const record: RecordedRequest = {
      method: req.method ?? '',
      path,
      endpoint,
      nonce: oauth?.oauth_nonce,
      status: 0,
      receivedAt,
    };
    options.onRequest?.(record);
    // Recorded on arrival, so a request still being answered (delayed, dripping) is already seen.
    requests.push(record);

    if (endpoint === 'token') {
      const fault = faults.token.shift();
      record.status = (fault && (await applyFault(fault, res, undefined))) ?? issueToken(res, body);
      return record;
    }
    // Kong, in front of PAM, answers this when the Authorization header is missing or the route is unknown.
    if (!header || endpoint === 'other') {
      record.status = send(res, 404, { message: 'No route matched with those values' });
      return record;
    }
    const bearer = header.startsWith('Bearer ');
    if (bearer ? !validBearer(header) : !oauth || !verify(req, oauth)) {
      record.status = send(res, 401, { message: 'Client authentication failed' });
      return record;
    }
    if (endpoint === 'credential') {
      record.status = credentialStore.serve(req.method ?? '', path, res);
      return record;
    }
    const fault = faults[endpoint].shift();
    if (fault) {
      const status = await applyFault(fault, res, dropId);
      if (status !== undefined) {
        record.status = status;
        return record;
      }
    }
    if (endpoint === 'lookup') record.status = serveLookup(res, lookupId ?? '');
    else record.status = endpoint === 'list' ? await serveList(res) : serveDrop(res, dropId ?? '');
    return record;
  }

  const inFlight = new Set<Promise<unknown>>();
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const receivedAt = performance.timeOrigin + performance.now();
    const handled = withBody((request, response, body) => handle(request, response, body, receivedAt))(req, res);
    inFlight.add(handled);
    void handled.then(() => inFlight.delete(handled));
  };
  const server = options.tls ? createHttpsServer(options.tls, listener) : createHttpServer(listener);
  const port = await listenOnLoopback(server, options.port);

  return {
    url: `${scheme}://${options.tls ? 'localhost' : '127.0.0.1'}:${port}`,
    sessions,
    requests,
    credentialApi: credentialStore,
    sessionsChanged() {
      forgetRendering();
    },
    openSessions,
    setCredentials(next) {
      credentials = next;
    },
    injectFault(endpoint, fault, times = 1) {
      for (let i = 0; i < times; i += 1) faults[endpoint].push(fault);
    },
    get tokensIssued() {
      return tokensIssued;
    },
    revokeTokens() {
      tokens.clear();
    },
    clearFaults() {
      for (const queue of Object.values(faults)) queue.length = 0;
    },
    async idle() {
      while (inFlight.size > 0) await Promise.all(inFlight);
    },
    close: () => closeServer(server),
  };
}
