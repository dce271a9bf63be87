import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { terminationSettings } from '../../lib/core/settings.js';
import type { IndexView } from '../../lib/inventory/active-index.js';
import { PamApiError } from '../../lib/pam/pam-errors.js';
import { TargetResolver } from '../../lib/termination/resolve-targets.js';
import { TerminationActions } from '../../lib/termination/termination-actions.js';
import { TerminationIncompleteError } from '../../lib/termination/termination-errors.js';
import type { TerminationRequest } from '../../lib/termination/termination-request.js';
import { normalisedSession } from '../support/fixtures.js';

/** PAM's drop, as the act phase calls it: each id's answer is held until the test releases it. */
const pam = vi.hoisted(() => ({
  inFlight: 0,
  mostInFlight: 0,
  answers: new Map<string, { release: () => void; fail: (error: unknown) => void }>(),
}));
vi.mock('../../lib/pam/pam-client.js', () => ({
  dropSession: (id: string) => {
    pam.inFlight += 1;
    pam.mostInFlight = Math.max(pam.mostInFlight, pam.inFlight);
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        pam.inFlight -= 1;
      };
      pam.answers.set(id, {
        release: () => {
          done();
          resolve();
        },
        fail: (error) => {
          done();
          reject(error);
        },
      });
    });
  },
}));

const request: TerminationRequest = {
  sessionIds: [],
  criteria: [{ user: 'aoliveira' }],
  reason: 'credential dump seen by the SIEM',
  requestedBy: 'soc-analyst',
  dryRun: false,
  trigger: { event_id: 'evt-2b7e', source: 'siem.soar', detail_type: 'PAM Session Termination Requested' },
};
const settings = (maxSessionsPerEvent: number, dropConcurrency = 8) => ({
  ...terminationSettings(),
  maxSessionsPerEvent,
  dropConcurrency,
});
const known = { index: undefined as IndexView | undefined, indexAgeMs: null };
function actions(maxSessionsPerEvent: number, dropConcurrency = 8) {
  const chosen = settings(maxSessionsPerEvent, dropConcurrency);
  return new TerminationActions(request, new TargetResolver(request, chosen, known), chosen, false, {});
}
const session = (id: string) => normalisedSession({ session_id: id, user: 'aoliveira' });
/** Until the drops sent so far reach PAM (p-limit starts them on a later tick). */
async function sent(count: number) {
  for (let tick = 0; tick < 100 && pam.answers.size < count; tick += 1) await sleep(1);
}

beforeEach(() => {
  pam.inFlight = 0;
  pam.mostInFlight = 0;
  pam.answers.clear();
});

describe('the act phase', () => {
  it('blocks each candidate beyond the cap, saying so', async () => {
    const acting = actions(1);
    acting.offer(session('s1'), 'index');
    acting.offer(session('s2'), 'live');
    await sent(1);
    pam.answers.get('s1')?.release();
    const outcomes = await acting.settled();
    expect(outcomes.map((o) => [o.session_id, o.outcome, o.resolved_from, o.message])).toEqual([
      ['s1', 'terminated', 'index', undefined],
      [
        's2',
        'blocked',
        'live',
        'this request already terminates MAX_SESSIONS_PER_EVENT (1) sessions: this one was not terminated, a human decides',
      ],
    ]);
    expect([...pam.answers.keys()]).toEqual(['s1']);
  });

  it("gives a failed drop its outcome, PAM's error kept behind it, and the other drops theirs", async () => {
    const acting = actions(5);
    acting.offer(session('s1'), 'index');
    acting.offer(session('s2'), 'index');
    acting.offer(session('s3'), 'index');
    await sent(3);
    const refused = new PamApiError({
      kind: 'rejected',
      retryable: false,
      status: 500,
      message: 'PAM Core answered HTTP 500',
    });
    const unexpected = new TypeError('Cannot read properties of undefined');
    pam.answers.get('s1')?.fail(refused);
    pam.answers.get('s2')?.fail(unexpected);
    pam.answers.get('s3')?.release();
    const [first, second, third] = await acting.settled();
    expect(first).toMatchObject({ outcome: 'failed', message: 'PAM Core answered HTTP 500', error: refused });
    expect(second).toMatchObject({
      outcome: 'failed',
      message: 'the drop of s2 failed unexpectedly: TypeError: Cannot read properties of undefined',
    });
    expect(second?.error).toBeInstanceOf(TerminationIncompleteError);
    expect(second?.error?.cause).toBe(unexpected);
    expect(third?.outcome).toBe('terminated');
  });

  it('keeps DROP_CONCURRENCY drops in flight from the container, across requests', async () => {
    const one = actions(5, 1);
    const other = actions(5, 1);
    one.offer(session('s1'), 'index');
    other.offer(session('s2'), 'index');
    await sent(1);
    await sleep(5);
    expect([...pam.answers.keys()]).toEqual(['s1']);
    pam.answers.get('s1')?.release();
    await sent(2);
    pam.answers.get('s2')?.release();
    await Promise.all([one.settled(), other.settled()]);
    expect(pam.mostInFlight).toBe(1);
  });

  it('waits for the drops sent so far, and no longer than it was given', async () => {
    const acting = actions(5);
    acting.offer(session('s1'), 'index');
    await sent(1);
    let answered = false;
    setTimeout(() => {
      answered = true;
      pam.answers.get('s1')?.release();
    }, 30);
    await acting.headStart(10_000);
    expect(answered).toBe(true);
    await acting.settled();

    const hanging = actions(5);
    hanging.offer(session('s2'), 'index');
    await sent(2);
    const first = await Promise.race([
      hanging.headStart(20).then(() => 'head start over'),
      sleep(5_000, 'still waiting'),
    ]);
    expect(first).toBe('head start over');
    pam.answers.get('s2')?.release();
    await hanging.settled();
  });
});
