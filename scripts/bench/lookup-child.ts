import { sessionsOpenedSince } from '../../lib/pam/session-tail.js';
import { confirmActive } from '../../lib/termination/fresh-sessions.js';
import { now } from './clock.js';

/**
 * The lookup pieces alone, in a fresh process, before the drop uses them: how long finding a session
 * opened since the index takes by walking the ids (stopping at it, as a request by id would; and to
 * the walk's end, as a match must), and how long confirming one session's state takes. The first
 * walk warms the connection and reads the secret. Prints one JSON line.
 */
const start = Number(process.env.BENCH_WALK_FROM);
const targets = (process.env.BENCH_WALK_TARGETS ?? '').split(',').filter(Boolean);
const confirm = JSON.parse(process.env.BENCH_CONFIRM ?? '[]') as Array<{ session_id: string; id: string }>;

const byId: Array<{ ms: number; lookups: number }> = [];
for (const target of targets) {
  const startedAt = now();
  const walk = await sessionsOpenedSince(start, { onSession: (session) => session.id === target });
  if (!walk.sessions.some((session) => session.id === target)) throw new Error(`session ${target} not found`);
  byId.push({ ms: now() - startedAt, lookups: walk.lookups });
}
const wholeStartedAt = now();
const whole = await sessionsOpenedSince(start);
const toEnd = { ms: now() - wholeStartedAt, lookups: whole.lookups, found: whole.sessions.length };
const confirmed: Array<{ ms: number; active: boolean | undefined; via: string | undefined }> = [];
for (const session of confirm) {
  const startedAt = now();
  const state = (await confirmActive([session])).get(session.session_id);
  confirmed.push({ ms: now() - startedAt, active: state?.active, via: state?.via });
}
const usage = process.resourceUsage();
const line = JSON.stringify({ byId, toEnd, confirmed, peakRssMB: usage.maxRSS / 1024 });
process.stdout.write(`${line}\n`, () => process.exit(0));
