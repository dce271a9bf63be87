import { addressMatches } from './ip-address.js';
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

function originMatches(origin: string | null, wanted: string): boolean {
  return origin !== null && addressMatches(origin, wanted);
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
