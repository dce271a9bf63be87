import { BlockList, isIP } from 'node:net';
import type { RemoteSession } from './remote-session.js';
import { splitDevice } from './remote-session.js';

/** All given fields must match (AND). A criteria object with no field matches nothing. */
export interface MatchCriteria {
  user?: string | undefined;
  /** An address or a CIDR block. */
  origin_ip?: string | undefined;
  /** A host (any port) or host:port. */
  device?: string | undefined;
  credential?: string | undefined;
  protocol?: string | undefined;
}

const MATCH_FIELDS = ['user', 'origin_ip', 'device', 'credential', 'protocol'] as const;

function hasCriteria(criteria: MatchCriteria): boolean {
  return MATCH_FIELDS.some((field) => criteria[field] !== undefined && criteria[field] !== '');
}

const sameText = (a: string | null, b: string) => a !== null && a.trim().toLowerCase() === b.trim().toLowerCase();

/** True when `value` is an IP address or a CIDR block (the forms origin_ip accepts). */
export function isAddressOrCidr(value: string): boolean {
  const [address, bits, extra] = value.split('/');
  const family = isIP(address ?? '');
  if (!family || extra !== undefined) return false;
  if (bits === undefined) return true;
  const prefix = Number(bits);
  return /^\d{1,3}$/.test(bits) && prefix >= 0 && prefix <= (family === 4 ? 32 : 128);
}

function originMatches(origin: string | null, wanted: string): boolean {
  if (origin === null) return false;
  const originFamily = isIP(origin.trim());
  const [address = '', bits] = wanted.split('/');
  const family = isIP(address);
  if (!originFamily || originFamily !== family) return false;
  const list = new BlockList();
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (bits === undefined) list.addAddress(address, type);
  else list.addSubnet(address, Number(bits), type);
  return list.check(origin.trim(), type);
}

function deviceMatches(session: RemoteSession, wanted: string): boolean {
  const { host, port } = splitDevice(wanted);
  if (host === null || !sameText(session.device_host, host)) return false;
  return port === null || session.device_port === port;
}

/**
 * `user`, `credential` and `protocol` compare case-insensitively; `device` matches the host with or
 * without the port; `origin_ip` matches an address or a CIDR block.
 */
export function sessionMatches(session: RemoteSession, criteria: MatchCriteria): boolean {
  if (!hasCriteria(criteria)) return false;
  return (
    (criteria.user === undefined || sameText(session.user, criteria.user)) &&
    (criteria.credential === undefined || sameText(session.credential, criteria.credential)) &&
    (criteria.protocol === undefined || sameText(session.protocol, criteria.protocol)) &&
    (criteria.device === undefined || deviceMatches(session, criteria.device)) &&
    (criteria.origin_ip === undefined || originMatches(session.origin_ip, criteria.origin_ip))
  );
}
