import { createHash } from 'node:crypto';

/** A session as the simulator stores and serves it: PAM's own field names and string types. */
export interface SimulatedSession {
  id: string;
  user: string;
  origin_ip: string;
  credential: string;
  device: string;
  protocol: string;
  proxy: string;
  session_id: string;
  start: string;
  end: string | null;
  time: string | null;
  prevent_purge: string;
  request: string | null;
  ITSM: string | null;
}

/** PAM's "YYYY-MM-DD HH:MM:SS". */
export function pamTimestamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

export function pamDuration(fromMs: number, toMs: number): string {
  const seconds = Math.max(0, Math.round((toMs - fromMs) / 1000));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
}

/** A 40-hex session hash like PAM's, derived from a label so seeds are the same on every run. */
export function sessionHash(label: string): string {
  return createHash('sha1').update(label).digest('hex');
}

interface Shape {
  user: string;
  origin_ip: string;
  credential: string;
  device: string;
  protocol: string;
  proxy: string;
  /** Minutes before "now" the session started. */
  startedAgo: number;
  /** Length in minutes; null while it is still open. */
  lasted: number | null;
  request?: string;
  ITSM?: string;
}

const SHAPES: Shape[] = [
  {
    user: 'Admin',
    origin_ip: '172.16.20.125',
    credential: 'usrdomadm01',
    device: '10.66.33.15:3389',
    protocol: 'rdp',
    proxy: 'Web Proxy',
    startedAgo: 14,
    lasted: null,
  },
  {
    user: 'Admin',
    origin_ip: '172.16.20.125',
    credential: 'usrsudonopass',
    device: '10.66.33.17:22',
    protocol: 'ssh',
    proxy: 'Web Proxy',
    startedAgo: 300,
    lasted: 3,
  },
  {
    user: 'jsilva',
    origin_ip: '172.16.20.131',
    credential: 'root',
    device: '10.66.33.17:22',
    protocol: 'ssh',
    proxy: 'Terminal Proxy',
    startedAgo: 42,
    lasted: null,
    request: 'REQ-20931',
  },
  {
    user: 'jsilva',
    origin_ip: '172.16.20.131',
    credential: 'oracle',
    device: 'db-prod-01.corp.example:22',
    protocol: 'ssh',
    proxy: 'Terminal Proxy',
    startedAgo: 1440,
    lasted: 55,
  },
  {
    user: 'mchen',
    origin_ip: '10.20.4.18',
    credential: 'CORP\\svc_sql',
    device: '10.66.40.21:3389',
    protocol: 'rdp',
    proxy: 'RDP Proxy',
    startedAgo: 7,
    lasted: null,
    ITSM: 'CHG0041877',
  },
  {
    user: 'mchen',
    origin_ip: '10.20.4.18',
    credential: 'admin',
    device: 'fw-edge-02.corp.example:443',
    protocol: 'https',
    proxy: 'Web Proxy',
    startedAgo: 95,
    lasted: 12,
  },
  {
    user: 'aoliveira',
    origin_ip: '203.0.113.77',
    credential: 'root',
    device: '10.66.50.9:22',
    protocol: 'ssh',
    proxy: 'Terminal Proxy',
    startedAgo: 3,
    lasted: null,
  },
  {
    user: 'aoliveira',
    origin_ip: '203.0.113.77',
    credential: 'ec2-user',
    device: '10.66.50.10:22',
    protocol: 'ssh',
    proxy: 'Terminal Proxy',
    startedAgo: 2,
    lasted: null,
  },
  {
    user: 'svc_backup',
    origin_ip: '10.20.9.3',
    credential: 'backup_operator',
    device: '10.66.33.15:3389',
    protocol: 'rdp',
    proxy: 'RDP Proxy',
    startedAgo: 2000,
    lasted: 240,
  },
  {
    user: 'break_glass',
    origin_ip: '172.16.20.140',
    credential: 'Administrator',
    device: '10.66.40.1:3389',
    protocol: 'rdp',
    proxy: 'RDP Proxy',
    startedAgo: 20,
    lasted: null,
  },
  {
    user: 'pgarcia',
    origin_ip: '10.20.6.44',
    credential: 'admin',
    device: 'vcenter.corp.example:443',
    protocol: 'https',
    proxy: 'Web Proxy',
    startedAgo: 31,
    lasted: null,
  },
  {
    user: 'pgarcia',
    origin_ip: '10.20.6.44',
    credential: 'root',
    device: '10.66.50.9:22',
    protocol: 'ssh',
    proxy: 'Terminal Proxy',
    startedAgo: 600,
    lasted: 18,
  },
];

/** A realistic mix of open and ended ssh, rdp and https sessions from several users, relative to `now`. */
export function seedSessions(now = Date.now()): SimulatedSession[] {
  return SHAPES.map((shape, index) => {
    const startMs = now - shape.startedAgo * 60_000;
    const endMs = shape.lasted === null ? null : startMs + shape.lasted * 60_000;
    return {
      id: String(index + 1),
      user: shape.user,
      origin_ip: shape.origin_ip,
      credential: shape.credential,
      device: shape.device,
      protocol: shape.protocol,
      proxy: shape.proxy,
      session_id: sessionHash(`seed-${index + 1}-${shape.user}-${shape.device}`),
      start: pamTimestamp(new Date(startMs)),
      end: endMs === null ? null : pamTimestamp(new Date(endMs)),
      time: endMs === null ? null : pamDuration(startMs, endMs),
      prevent_purge: 'No',
      request: shape.request ?? null,
      ITSM: shape.ITSM ?? null,
    };
  });
}

const USERS = ['Admin', 'jsilva', 'mchen', 'aoliveira', 'pgarcia', 'svc_backup', 'rkumar', 'lferreira'];
const CREDENTIALS = ['root', 'Administrator', 'oracle', 'ec2-user', 'CORP\\svc_sql', 'admin'];
const PROTOCOLS: Array<[protocol: string, port: number, proxy: string]> = [
  ['ssh', 22, 'Terminal Proxy'],
  ['rdp', 3389, 'RDP Proxy'],
  ['https', 443, 'Web Proxy'],
];

/** `count` deterministic sessions, a share of them still open: for benchmarks and large lists. */
export function generateSessions(
  count: number,
  options: { activeShare?: number; activeCount?: number; now?: number } = {},
): SimulatedSession[] {
  const now = options.now ?? Date.now();
  // A real history holds a few hundred to a few thousand open sessions whatever its length.
  const share = options.activeCount === undefined ? (options.activeShare ?? 0.1) : options.activeCount / count;
  const activeEvery = Math.max(1, Math.round(1 / share));
  const sessions: SimulatedSession[] = [];
  for (let index = 0; index < count; index += 1) {
    const [protocol, port, proxy] = PROTOCOLS[index % PROTOCOLS.length] as [string, number, string];
    const startMs = now - (index % 10_000) * 60_000 - 60_000;
    const active = index % activeEvery === 0;
    const endMs = startMs + ((index % 90) + 1) * 60_000;
    sessions.push({
      id: String(index + 1),
      user: USERS[index % USERS.length] as string,
      origin_ip: `10.${20 + (index % 8)}.${(index >> 8) & 255}.${index & 255}`,
      credential: CREDENTIALS[index % CREDENTIALS.length] as string,
      device: `10.66.${(index >> 8) & 255}.${(index * 7) & 255}:${port}`,
      protocol,
      proxy,
      session_id: sessionHash(`generated-${index}`),
      start: pamTimestamp(new Date(startMs)),
      end: active ? null : pamTimestamp(new Date(endMs)),
      time: active ? null : pamDuration(startMs, endMs),
      prevent_purge: 'No',
      request: null,
      ITSM: null,
    });
  }
  return sessions;
}
