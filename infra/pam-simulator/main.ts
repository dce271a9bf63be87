import type { OAuth1Credentials } from '../../lib/pam/oauth1.js';
import { generateSessions, type SimulatedSession, seedSessions } from './seed-sessions.js';
import { startPamSimulator } from './server.js';

/**
 * The simulator as its own process (for benchmarks, so its memory is not counted with what is
 * measured): PAM_SIMULATOR_CREDENTIALS (JSON), PAM_SIMULATOR_SESSIONS (a count; the realistic seed
 * when unset) and PAM_SIMULATOR_ACTIVE (how many of them are open). Prints its URL on the first
 * line once it listens; started with an IPC channel, it reports each request as it arrives and
 * takes `{ open: sessions }` to open sessions (answered `{ opened: count }`).
 */
const credentials = JSON.parse(process.env.PAM_SIMULATOR_CREDENTIALS ?? '') as OAuth1Credentials;
const count = process.env.PAM_SIMULATOR_SESSIONS;
const active = process.env.PAM_SIMULATOR_ACTIVE;
const simulator = await startPamSimulator({
  credentials,
  sessions: count ? generateSessions(Number(count), active ? { activeCount: Number(active) } : {}) : seedSessions(),
  port: Number(process.env.PAM_SIMULATOR_PORT ?? 0),
  ...(process.send
    ? {
        onRequest: ({ endpoint, path, receivedAt }) => process.send?.({ endpoint, path, receivedAt }),
      }
    : {}),
});
process.on('message', (message: { open?: SimulatedSession[] }) => {
  if (!message.open) return;
  simulator.openSessions(message.open);
  process.send?.({ opened: message.open.length });
});
console.log(simulator.url);
process.on('SIGTERM', () => void simulator.close().then(() => process.exit(0)));
