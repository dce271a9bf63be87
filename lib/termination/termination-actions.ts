import pLimit from 'p-limit';
import { ResponderError } from '../core/errors.js';
import type { TerminationSettings } from '../core/settings.js';
import { dropSession, type PamCallOptions } from '../pam/pam-client.js';
import type { RemoteSession } from '../sessions/remote-session.js';
import type { Outcome, ResolvedFrom } from './outcome.js';
import type { Target, TargetResolver } from './resolve-targets.js';
import { TerminationIncompleteError } from './termination-errors.js';
import type { TerminationRequest } from './termination-request.js';

/** How many sessions one request may terminate: MAX_SESSIONS_PER_EVENT, unless an analyst confirmed it. */
export function capOf(request: TerminationRequest, settings: TerminationSettings): number {
  return request.confirmOverCap ? Number.POSITIVE_INFINITY : settings.maxSessionsPerEvent;
}

/** PAM's drops in flight from this container, at most DROP_CONCURRENCY at a time: one limiter per value. */
let dropLimit: { concurrency: number; limit: ReturnType<typeof pLimit> } | undefined;
function dropLimiter(concurrency: number): ReturnType<typeof pLimit> {
  if (dropLimit?.concurrency !== concurrency) dropLimit = { concurrency, limit: pLimit(concurrency) };
  return dropLimit.limit;
}

/**
 * The act phase, as targets arrive: PAM's drop goes out for each candidate at once (a few at a
 * time), within the request's cap; beyond it, candidates are blocked. In a dry run nothing is sent.
 */
export class TerminationActions {
  private readonly outcomes: Array<Outcome | Promise<Outcome>> = [];
  private readonly limit: ReturnType<typeof pLimit>;
  private accepted = 0;

  constructor(
    private readonly request: TerminationRequest,
    private readonly resolver: TargetResolver,
    private readonly settings: TerminationSettings,
    private readonly dryRun: boolean,
    private readonly options: PamCallOptions,
  ) {
    this.limit = dropLimiter(settings.dropConcurrency);
  }

  /** Candidates that can still be accepted before the cap. */
  get room(): number {
    return capOf(this.request, this.settings) - this.accepted;
  }

  add(...outcomes: Outcome[]): void {
    this.outcomes.push(...outcomes);
  }

  take(target: Target): void {
    if ('decided' in target) this.add(target.decided);
    else this.offer(target.candidate, target.from);
  }

  offer(session: RemoteSession, from: ResolvedFrom): void {
    const id = session.session_id;
    if (this.room <= 0) {
      const message = `this request already terminates MAX_SESSIONS_PER_EVENT (${this.settings.maxSessionsPerEvent}) sessions: this one was not terminated, a human decides`;
      this.add(this.resolver.outcome(id, 'blocked', session, from, { message }));
      return;
    }
    this.accepted += 1;
    if (this.dryRun) {
      this.add(this.resolver.outcome(id, 'would_terminate', session, from));
      return;
    }
    this.outcomes.push(
      this.limit(async () => {
        try {
          await dropSession(id, this.options);
          return this.resolver.outcome(id, 'terminated', session, from);
        } catch (caught) {
          // Whatever went wrong, this target gets its outcome and the others theirs.
          const error =
            caught instanceof ResponderError
              ? caught
              : new TerminationIncompleteError(`the drop of ${id} failed unexpectedly: ${String(caught)}`, {
                  cause: caught,
                });
          return this.resolver.outcome(id, 'failed', session, from, { message: error.message, error });
        }
      }),
    );
  }

  /** More candidates than the cap in one go: none is terminated. */
  blockAll(sessions: RemoteSession[], from: ResolvedFrom): void {
    const message = `${sessions.length} sessions matched, more than MAX_SESSIONS_PER_EVENT (${this.settings.maxSessionsPerEvent}): none was terminated, a human decides`;
    this.add(
      ...sessions.map((session) => this.resolver.outcome(session.session_id, 'blocked', session, from, { message })),
    );
  }

  async settled(): Promise<Outcome[]> {
    return Promise.all(this.outcomes);
  }

  /** Waits until the drops sent so far are answered, or `ms` at most. */
  async headStart(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(this.outcomes),
      new Promise((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }
}
