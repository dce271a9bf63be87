import type { OAuth1Credentials } from '../../lib/pam/oauth1.js';
import { generateSessions, seedSessions } from './seed-sessions.js';
import { startPamSimulator } from './server.js';

/**
 * The simulator as its own process (for benchmarks, so its memory is not counted with what is
 * measured): PAM_SIMULATOR_CREDENTIALS (JSON) and PAM_SIMULATOR_SESSIONS (a count; the realistic
 * seed when unset). Prints its URL on the first line once it listens.
 */
const credentials = JSON.parse(process.env.PAM_SIMULATOR_CREDENTIALS ?? '') as OAuth1Credentials;
const count = process.env.PAM_SIMULATOR_SESSIONS;
const simulator = await startPamSimulator({
  credentials,
  sessions: count ? generateSessions(Number(count)) : seedSessions(),
  port: Number(process.env.PAM_SIMULATOR_PORT ?? 0),
});
console.log(simulator.url);
process.on('SIGTERM', () => void simulator.close().then(() => process.exit(0)));
