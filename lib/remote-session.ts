import * as z from 'zod/mini';

// PAM versions disagree on types (id is "3" in one, 3 in another): keep every scalar as text.
const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'must be text or a number' });
const text = z.pipe(scalar, z.transform(String));
const optionalText = z.pipe(
  z.nullish(scalar),
  z.transform((value) => (value === undefined || value === null ? null : String(value))),
);

const rawRemoteSessionSchema = z.object(
  {
  id: optionalText,
  session_id: z.pipe(text, z.string().check(z.minLength(1, 'must not be empty'))),
  user: optionalText,
  origin_ip: optionalText,
  credential: optionalText,
  credencial: optionalText,
  device: optionalText,
  dispositivo: optionalText,
  protocol: optionalText,
  proxy: optionalText,
  start: optionalText,
  end: optionalText,
  time: optionalText,
  prevent_purge: optionalText,
  request: optionalText,
  ITSM: optionalText,
  },
  { error: 'must be an object' },
);

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

const NO_END = new Set(['', '0000-00-00 00:00:00']);

export function isActiveEnd(end: string | null): boolean {
  return end === null || NO_END.has(end.trim());
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

/** Validates one record of `remote_sessions` and gives it the one shape the rest of the product uses. */
export function normaliseRemoteSession(raw: unknown): NormaliseResult {
  const parsed = rawRemoteSessionSchema.safeParse(raw);
  if (!parsed.success) {
    const reason = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || 'record'}: ${issue.message}`)
      .join('; ');
    return { ok: false, reason };
  }
  const record = parsed.data;
  const device = record.device ?? record.dispositivo;
  const { host, port } = splitDevice(device);
  return {
    ok: true,
    session: {
      id: record.id,
      session_id: record.session_id,
      user: record.user,
      origin_ip: record.origin_ip,
      credential: record.credential ?? record.credencial,
      device,
      protocol: record.protocol,
      proxy: record.proxy,
      start: record.start,
      end: record.end,
      time: record.time,
      prevent_purge: record.prevent_purge,
      request: record.request,
      ITSM: record.ITSM,
      active: isActiveEnd(record.end),
      device_host: host,
      device_port: port,
    },
  };
}
