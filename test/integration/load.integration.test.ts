import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalPam, startLocalPam } from '../../infra/local/local-pam.js';
import { driveTerminations } from '../../infra/local/termination-load.js';
import { generateSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { type Handler, loadHandler } from '../support/handlers.js';

const REQUESTS = 1_000;
let local: LocalPam;
let drop: Handler;

beforeAll(async () => {
  // Every session is open; each request targets its own.
  local = await startLocalPam({ sessions: generateSessions(REQUESTS, { activeShare: 1 }) });
  Object.assign(process.env, local.env, { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' });
  drop = await loadHandler('drop');
});

afterAll(async () => {
  await local.close();
});

describe('1,000 termination requests at concurrency 50', () => {
  it('terminate every targeted session exactly once, lose nothing, and audit each', async () => {
    const ids = local.pam.sessions.map((session) => session.session_id);
    const { outcomes } = await driveTerminations(drop, ids, 50);

    expect(outcomes).toHaveLength(REQUESTS);
    expect(outcomes.every((outcome) => outcome.outcome === 'terminated')).toBe(true);
    // Each confirmed ended by one lookup after its DELETE.
    expect(outcomes.filter((outcome) => outcome.confirmed !== true)).toEqual([]);
    expect(local.pam.requests.filter((request) => request.endpoint === 'lookup')).toHaveLength(REQUESTS);
    expect(new Set(outcomes.map((outcome) => outcome.session_id))).toEqual(new Set(ids));

    const drops = local.pam.requests.filter((request) => request.endpoint === 'drop');
    const perSession = new Map<string, number>();
    for (const request of drops) perSession.set(request.path, (perSession.get(request.path) ?? 0) + 1);
    expect(drops).toHaveLength(REQUESTS);
    expect([...perSession.values()].every((count) => count === 1)).toBe(true);
    expect(drops.every((request) => request.status === 200)).toBe(true);

    expect(local.pam.sessions.every((session) => session.end !== null)).toBe(true);
    expect(local.eventBridge.events.filter((event) => event['detail-type'] === 'PAM Session Terminated')).toHaveLength(
      REQUESTS,
    );
    // About 80 s on a loaded 2-core machine: the ceiling is 5 times that.
  }, 400_000);
});
