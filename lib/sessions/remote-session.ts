/**
 * One remote session as the product uses it everywhere (list, events, export): the vendor's field
 * names, plus `active`, `device_host` and `device_port`.
 */
export interface RemoteSession {
  id: string | null;
  session_id: string;
  user: string | null;
  origin_ip: string | null;
  credential: string | null;
  device: string | null;
  protocol: string | null;
  proxy: string | null;
  start: string | null;
  end: string | null;
  time: string | null;
  prevent_purge: string | null;
  request: string | null;
  ITSM: string | null;
  /** No end time yet: the session is still open. */
  active: boolean;
  device_host: string | null;
  device_port: number | null;
}

/** Column order of the CSV export and of the Athena table. */
export const SESSION_COLUMNS: Array<keyof RemoteSession> = [
  'id',
  'session_id',
  'user',
  'origin_ip',
  'credential',
  'device',
  'protocol',
  'proxy',
  'start',
  'end',
  'time',
  'prevent_purge',
  'request',
  'ITSM',
  'active',
  'device_host',
  'device_port',
];

const NO_END = new Set(['', '0000-00-00 00:00:00']);

function isActiveEnd(end: string | null): boolean {
  return end === null || NO_END.has(end.trim());
}

/** Whether a record as PAM sent it, not yet normalised, looks still open (its `end` is empty): a cheap first look. */
export function looksActive(raw: unknown): boolean {
  const end = (raw as { end?: unknown } | null)?.end;
  return end === undefined || end === null || (typeof end === 'string' && NO_END.has(end.trim()));
}

/** Splits PAM's `device` ("10.0.0.5:22", "db01.corp:1521", "[2001:db8::1]:3389", "2001:db8::1") into host and port. */
export function splitDevice(device: string | null): { host: string | null; port: number | null } {
  if (device === null || device.trim() === '') return { host: null, port: null };
  const value = device.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
  if (bracketed) return { host: bracketed[1] ?? null, port: toPort(bracketed[2]) };
  const hostPort = /^([^:]+):(\d{1,5})$/.exec(value);
  if (hostPort) return { host: hostPort[1] ?? null, port: toPort(hostPort[2]) };
  return { host: value, port: null };
}

function toPort(digits: string | undefined): number | null {
  if (digits === undefined) return null;
  const port = Number(digits);
  return port >= 1 && port <= 65535 ? port : null;
}

export type NormaliseResult = { ok: true; session: RemoteSession } | { ok: false; reason: string };

class Malformed {
  constructor(readonly reason: string) {}
}

/**
 * PAM versions disagree on types (id is "3" in one, 3 in another): every scalar becomes text,
 * null and missing become null, anything else makes the record malformed. Written out by hand
 * rather than with zod because the export runs it on millions of records (zod cost ~3.5 µs each;
 * test/unit/remote-session.test.ts checks it against a zod schema of the same rules).
 */
function text(record: Record<string, unknown>, field: string): string | null {
  const value = record[field];
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Malformed(`${field}: must be text or a number`);
}

/**
 * Fields no decision depends on (the ITSM ticket, the access request, prevent_purge): a value of an
 * unexpected shape is kept as its JSON text rather than costing the whole record.
 */
function lenientText(record: Record<string, unknown>, field: string): string | null {
  const value = record[field];
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : text(record, field);
}

/** Validates one record of `remote_sessions` and gives it the one shape the rest of the product uses. */
export function normaliseRemoteSession(raw: unknown): NormaliseResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, reason: 'record: must be an object' };
  const record = raw as Record<string, unknown>;
  try {
    const sessionId = text(record, 'session_id');
    if (sessionId === null || sessionId === '') return { ok: false, reason: 'session_id: must not be empty' };
    // Older versions name two fields in Portuguese; both are checked and the English one wins.
    const [credential, credencial] = [text(record, 'credential'), text(record, 'credencial')];
    const [device, dispositivo] = [text(record, 'device'), text(record, 'dispositivo')];
    const end = text(record, 'end');
    const { host, port } = splitDevice(device ?? dispositivo);
    return {
      ok: true,
      session: {
        id: text(record, 'id'),
        session_id: sessionId,
        user: text(record, 'user'),
        origin_ip: text(record, 'origin_ip'),
        credential: credential ?? credencial,
        device: device ?? dispositivo,
        protocol: text(record, 'protocol'),
        proxy: text(record, 'proxy'),
        start: text(record, 'start'),
        end,
        time: text(record, 'time'),
        prevent_purge: lenientText(record, 'prevent_purge'),
        request: lenientText(record, 'request'),
        ITSM: lenientText(record, 'ITSM'),
        active: isActiveEnd(end),
        device_host: host,
        device_port: port,
      },
    };
  } catch (error) {
    if (error instanceof Malformed) return { ok: false, reason: error.reason };
    throw error;
  }
}
