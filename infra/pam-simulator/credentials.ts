import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { envelope } from './envelope.js';
import type { SimulatedSession } from './seed-sessions.js';

/** A credential as the simulator keeps it: one per username and device address its sessions used. */
export interface SimulatedCredential {
  id: string;
  username: string;
  hostname: string;
  ip: string;
  active: boolean;
  inCustody: boolean;
  /** Changed on every release of custody, as automatic password change does. */
  password: string;
  rotations: number;
}

/** The vendor's errors (notes/pam-core-api.md), each answered with HTTP 400 and PAM's envelope. */
export const CREDENTIAL_ERROR_MESSAGES: Record<number, string> = {
  1007: 'Credential not found',
  1008: 'Credential inactive',
  1009: 'No access to credential',
  1018: 'The credential is not in the user custody',
  1039: 'The authorization has no write permission on PAM Core',
};

export type CredentialOperation = 'custody' | 'release' | 'deactivate' | 'activate';

export interface CredentialApi {
  /** The credentials served, derived from the sessions (new pairs are added as sessions appear). */
  readonly credentials: SimulatedCredential[];
  /** Every password custody handed over: tests scan every output for them. */
  readonly passwordsHandedOver: string[];
  /** The next request naming credential `id` (only for operation `on`, when given) answers this vendor error code. */
  refuse(id: string, code: number, on?: CredentialOperation): void;
  /** The next `times` reads of the list answer 503 from the gateway, as an overloaded PAM Core does. */
  failList(times: number): void;
  /** Without write permission, every change answers 1039. */
  readOnly: boolean;
  /** Adds a credential the sessions do not use (a duplicate, to make a lookup ambiguous). */
  add(credential: Pick<SimulatedCredential, 'username' | 'hostname' | 'ip'>): SimulatedCredential;
  /** Back to the credentials the sessions derive, all active, none in custody, no refusal queued. */
  reset(): void;
  handles(path: string): boolean;
  serve(method: string, path: string, res: ServerResponse): number;
}

const newPassword = () => `P@${randomBytes(12).toString('base64url')}`;

/**
 * The PAM Core's A2A credential API under `path` (`/api/pam/credential`, or `/iso/pam/credential`):
 * the list, custody (which hands over the password), the release of custody (which changes it),
 * deactivation and activation, with the vendor's error codes.
 */
export function credentialApi(sessions: () => SimulatedSession[], path = '/api/pam/credential'): CredentialApi {
  const credentials: SimulatedCredential[] = [];
  const byPair = new Map<string, SimulatedCredential>();
  const refusals = new Map<string, Array<{ code: number; on: CredentialOperation | undefined }>>();
  const passwordsHandedOver: string[] = [];
  let nextId = 101;
  let listFailures = 0;

  function add(fields: Pick<SimulatedCredential, 'username' | 'hostname' | 'ip'>): SimulatedCredential {
    const credential = {
      ...fields,
      id: String(nextId++),
      active: true,
      inCustody: false,
      password: newPassword(),
      rotations: 0,
    };
    credentials.push(credential);
    return credential;
  }

  function derive(): void {
    for (const session of sessions()) {
      const host = session.device.replace(/:\d+$/, '');
      const key = `${session.credential}@${host}`;
      if (byPair.has(key)) continue;
      // A device named by address gets a made-up hostname; one named by host has no address in the list.
      const byAddress = /^[\d.]+$/.test(host) || host.includes(':');
      const fields = byAddress
        ? { username: session.credential, hostname: `srv-${host.replaceAll('.', '-')}`, ip: host }
        : { username: session.credential, hostname: host.toUpperCase(), ip: '' };
      byPair.set(key, add(fields));
    }
  }

  function send(res: ServerResponse, status: number, body: unknown): number {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
    return status;
  }

  const refuse = (res: ServerResponse, code: number) =>
    send(res, 400, { response: envelope(400, `${code}: ${CREDENTIAL_ERROR_MESSAGES[code] ?? 'Error'}`, code) });
  const ok = (res: ServerResponse, message: string, extra: Record<string, unknown> = {}) =>
    send(res, 200, { response: envelope(200, message, 0), ...extra });

  const api: CredentialApi = {
    credentials,
    passwordsHandedOver,
    readOnly: false,
    add,
    failList(times) {
      listFailures = times;
    },
    refuse(id, code, on) {
      refusals.set(id, [...(refusals.get(id) ?? []), { code, on }]);
    },
    reset() {
      credentials.length = 0;
      byPair.clear();
      refusals.clear();
      passwordsHandedOver.length = 0;
      api.readOnly = false;
      listFailures = 0;
      nextId = 101;
      derive();
    },
    handles: (requestPath) => requestPath === path || requestPath.startsWith(`${path}/`),
    serve(method, requestPath, res) {
      derive();
      if (method === 'GET' && requestPath === path && listFailures > 0) {
        listFailures -= 1;
        return send(res, 503, { message: 'Service Unavailable' });
      }
      if (method === 'GET' && requestPath === path) {
        const listed = credentials.map(({ id, username, hostname, ip, active }) => ({
          id: Number(id),
          identifier: `${username}@${hostname}`,
          username,
          hostname,
          ip,
          active: active ? 1 : 0,
        }));
        return ok(res, '', { credentials: listed });
      }
      const rest = decodeURIComponent(requestPath.slice(path.length + 1));
      const custody = rest.startsWith('custody/');
      const id = custody ? rest.slice('custody/'.length) : rest;
      const credential = credentials.find((candidate) => candidate.id === id);
      const operation: CredentialOperation = custody
        ? 'release'
        : method === 'GET'
          ? 'custody'
          : method === 'DELETE'
            ? 'deactivate'
            : 'activate';
      const queued = refusals.get(id) ?? [];
      const refusal = queued.findIndex((candidate) => candidate.on === undefined || candidate.on === operation);
      if (refusal >= 0) return refuse(res, queued.splice(refusal, 1)[0]?.code ?? 0);
      if (!credential) return refuse(res, 1007);
      const writes = method !== 'GET';
      if (writes && api.readOnly) return refuse(res, 1039);
      if (custody && method === 'DELETE') {
        if (!credential.inCustody) return refuse(res, 1018);
        credential.inCustody = false;
        credential.password = newPassword();
        credential.rotations += 1;
        return ok(res, 'Custody released');
      }
      if (method === 'GET') {
        if (!credential.active) return refuse(res, 1008);
        credential.inCustody = true;
        passwordsHandedOver.push(credential.password);
        const { id: _id, active: _active, inCustody: _custody, rotations: _rotations, ...shown } = credential;
        return ok(res, '', { credential: { id: Number(credential.id), ...shown } });
      }
      if (method === 'DELETE') {
        if (!credential.active) return refuse(res, 1008);
        credential.active = false;
        return ok(res, 'Credential successfully deactivated');
      }
      if (method === 'PUT') {
        credential.active = true;
        return ok(res, 'Credential successfully activated');
      }
      return send(res, 404, { message: 'No route matched with those values' });
    },
  };
  return api;
}
