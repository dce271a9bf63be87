import { createServer } from 'node:net';
import { DEFAULT_PORTS, type PortName } from '../../infra/local/local-ports.js';

/**
 * Below Linux's ephemeral range (32768-60999): a port the kernel hands out for listen(0) or as an
 * outgoing connection's local port can be taken by another test between its choice and the stack's listen.
 */
const FIRST = 20_000;
const LAST = 32_000;

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A free port for each of npm start's port variables, none of them its default, as the environment moving them. */
export async function movedPorts(): Promise<Record<PortName, string>> {
  const chosen = new Set<number>();
  while (chosen.size < Object.keys(DEFAULT_PORTS).length) {
    const port = FIRST + Math.floor(Math.random() * (LAST - FIRST));
    if (!chosen.has(port) && (await portFree(port))) chosen.add(port);
  }
  const ports = [...chosen];
  return Object.fromEntries(Object.keys(DEFAULT_PORTS).map((name, index) => [name, String(ports[index])])) as Record<
    PortName,
    string
  >;
}
