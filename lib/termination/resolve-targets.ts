import { SessionNotFoundError } from '../core/errors.js';
import type { TerminationSettings } from '../core/settings.js';
import type { RemoteSession } from '../sessions/remote-session.js';
import { sessionMatches } from '../sessions/session-match.js';
import { type Outcome, sessionFacts } from './outcome.js';
import type { TerminationRequest } from './termination-request.js';

export interface Resolution {
  /** Targets whose outcome is known without acting: ended, protected, not found. */
  decided: Outcome[];
  /** Active, unprotected sessions the request asks to terminate. */
  candidates: RemoteSession[];
}

function protection(session: RemoteSession, settings: TerminationSettings): string | undefined {
  if (session.user !== null && settings.protectedUsers.has(session.user.trim().toLowerCase())) {
    return `user "${session.user}" is protected (PROTECTED_USERS)`;
  }
  if (session.credential !== null && settings.protectedCredentials.has(session.credential.trim().toLowerCase())) {
    return `credential "${session.credential}" is protected (PROTECTED_CREDENTIALS)`;
  }
  return undefined;
}

/** By id: that id. By match: ACTIVE sessions matching any criteria. One list serves both. */
export function resolveTargets(
  request: TerminationRequest,
  sessions: RemoteSession[],
  settings: TerminationSettings,
): Resolution {
  const byId = new Map(sessions.map((session) => [session.session_id, session]));
  const seen = new Set<string>();
  const decided: Outcome[] = [];
  const candidates: RemoteSession[] = [];
  const notFound: Outcome[] = [];

  const consider = (session: RemoteSession) => {
    if (seen.has(session.session_id)) return;
    seen.add(session.session_id);
    const facts = sessionFacts(session);
    if (!session.active) {
      decided.push({
        session_id: session.session_id,
        outcome: 'already_ended',
        session: facts,
        message: `ended at ${session.end}`,
      });
      return;
    }
    const protectedBy = protection(session, settings);
    if (protectedBy)
      decided.push({
        session_id: session.session_id,
        outcome: 'skipped_protected',
        session: facts,
        message: protectedBy,
      });
    else candidates.push(session);
  };

  for (const id of request.sessionIds) {
    const session = byId.get(id);
    if (session) consider(session);
    else if (!seen.has(id)) {
      seen.add(id);
      const message = `session ${id} is not in the PAM Core's session list; nothing was sent`;
      notFound.push({
        session_id: id,
        outcome: 'failed',
        session: null,
        message,
        error: new SessionNotFoundError(message),
      });
    }
  }
  for (const session of sessions) {
    if (session.active && request.criteria.some((criteria) => sessionMatches(session, criteria))) consider(session);
  }
  return { decided: [...decided, ...notFound], candidates };
}
