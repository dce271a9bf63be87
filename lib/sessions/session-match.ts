import { nameMatches, parseAccountName } from './account-name.js';
import {
  type Address,
  type Block,
  inBlock,
  parseAddress,
  parseBlock,
  refusedAddress,
  sameAddress,
} from './ip-address.js';
import type { RemoteSession } from './remote-session.js';
import { splitDevice } from './remote-session.js';

/** All given fields must match (AND). A criteria object with no field matches nothing. */
export interface MatchCriteria {
  user?: string | undefined;
  /** An address or a CIDR block. */
  origin_ip?: string | undefined;
  /** A host (any port) or host:port; an IPv6 host with a port is written [host]:port. */
  device?: string | undefined;
  credential?: string | undefined;
  protocol?: string | undefined;
}

const MATCH_FIELDS = ['user', 'origin_ip', 'device', 'credential', 'protocol'] as const;

function hasCriteria(criteria: MatchCriteria): boolean {
  return MATCH_FIELDS.some((field) => criteria[field] !== undefined && criteria[field] !== '');
}

const sameText = (a: string | null, b: string) => a !== null && a.trim().toLowerCase() === b.trim().toLowerCase();

const sameName = (name: string | null, wanted: string) =>
  name !== null && nameMatches(parseAccountName(wanted), parseAccountName(name));

/** A device criterion: an address (compared as one) or a hostname (as text), and a port or any. */
type WantedDevice = { address: Address; port: number | null } | { hostname: string; port: number | null };

type ReadDevice = { value: WantedDevice } | { problem: string };

const PORT = /^\d+$/;

/** Reads `host`, `host:port`, an IPv6 address, or `[address]:port`, refusing what could be read two ways. */
function readDevice(text: string): ReadDevice {
  const value = text.trim();
  const bracketed = /^\[([^\]]*)\](?::([^:]*))?$/.exec(value);
  const hostPort = bracketed ? null : /^([^:]*):([^:]*)$/.exec(value);
  const host = (bracketed ?? hostPort)?.[1] ?? value;
  const portText = (bracketed ?? hostPort)?.[2];
  let port: number | null = null;
  if (portText !== undefined) {
    port = PORT.test(portText) ? Number(portText) : Number.NaN;
    if (!(port >= 1 && port <= 65535)) return { problem: `has a port that is not 1 to 65535 ("${portText}")` };
  }
  const address = parseAddress(host);
  if (address) return { value: { address, port } };
  const refused = refusedAddress(host);
  if (refused) return { problem: refused };
  if (bracketed || host.includes(':')) return { problem: 'is not a host, host:port, or [IPv6 address]:port' };
  if (host.trim() === '') return { problem: 'has no host' };
  if (host.includes('/')) return { problem: 'is a host, not a CIDR block' };
  return { value: { hostname: host.trim(), port } };
}

/** Why `device` cannot be a device criterion (to be put after its name), or undefined. */
export function deviceProblem(device: string): string | undefined {
  const read = readDevice(device);
  return 'problem' in read ? read.problem : undefined;
}

function originMatches(origin: string | null, wanted: Block | null): boolean {
  // PAM may record the origin with its port ("203.0.113.77:51234", "[2001:db8::1]:51234").
  const address = parseAddress(splitDevice(origin).host);
  return wanted !== null && address !== undefined && inBlock(address, wanted);
}

function deviceMatches(session: RemoteSession, wanted: WantedDevice): boolean {
  if ('address' in wanted) {
    const host = parseAddress(session.device_host);
    if (host === undefined || !sameAddress(host, wanted.address)) return false;
  } else if (!sameText(session.device_host, wanted.hostname)) return false;
  return wanted.port === null || session.device_port === wanted.port;
}

/**
 * `user` and `credential` compare as account names (account-name.ts: a domain in the criteria must
 * be the session's, none matches any); `protocol` case-insensitively; `device` matches the host with or
 * without the port, as an address when it is one (a hostname as text); `origin_ip` matches an
 * address or a CIDR block. A host or origin that is not an address in a standard form (a
 * leading-zero octet…) never matches an address: it is not guessed.
 */
export function sessionMatches(session: RemoteSession, criteria: MatchCriteria): boolean {
  if (!hasCriteria(criteria)) return false;
  const device = criteria.device === undefined ? undefined : readDevice(criteria.device);
  const origin = criteria.origin_ip === undefined ? undefined : (parseBlock(criteria.origin_ip) ?? null);
  return (
    (criteria.user === undefined || sameName(session.user, criteria.user)) &&
    (criteria.credential === undefined || sameName(session.credential, criteria.credential)) &&
    (criteria.protocol === undefined || sameText(session.protocol, criteria.protocol)) &&
    (device === undefined || ('value' in device && deviceMatches(session, device.value))) &&
    (origin === undefined || originMatches(session.origin_ip, origin))
  );
}
