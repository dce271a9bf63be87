import { type PamCallOptions, streamRemoteSessions } from '../pam/pam-client.js';
import type { RemoteSession } from '../sessions/remote-session.js';
import type { TargetResolver } from './resolve-targets.js';
import type { TerminationActions } from './termination-actions.js';

/**
 * Phase 2: the live list, read as it arrives. An id still sought is acted on as soon as its record
 * arrives. Matches the index could not know are acted on as they arrive too; without a usable
 * index, the whole list is read first, so that a broad match (or more ids than the cap) is blocked
 * whole, never terminated in part.
 */
export async function resolveLive(
  resolver: TargetResolver,
  actions: TerminationActions,
  deferMatches: boolean,
  options: PamCallOptions,
): Promise<void> {
  // Ids are acted on as they arrive unless the request names more than the cap allows: then it is blocked whole too.
  const deferIds = deferMatches && resolver.soughtIds > actions.room;
  const deferred: RemoteSession[] = [];
  for await (const sessions of streamRemoteSessions(options)) {
    for (const session of sessions) {
      const target = resolver.fromLive(session);
      if (!target) continue;
      if ('candidate' in target && deferMatches && (!target.byId || deferIds)) deferred.push(target.candidate);
      else actions.take(target);
    }
    if (resolver.liveListDone) break;
  }
  actions.add(...resolver.unresolved('failed'));
  if (deferred.length > actions.room) actions.blockAll(deferred, 'live');
  else for (const session of deferred) actions.offer(session, 'live');
}
