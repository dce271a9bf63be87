import { ResponderError } from '../core/errors.js';
import { type ContainAction, containmentSettings, indexSettings, type TerminationSettings } from '../core/settings.js';
import { terminatedAmong } from '../inventory/termination-records.js';
import type { PamCredential } from '../pam/credential-api.js';
import type { PamCallOptions } from '../pam/pam-client.js';
import { parseAccountName, protects } from '../sessions/account-name.js';
import { splitDevice } from '../sessions/remote-session.js';
import type { Outcome } from '../termination/outcome.js';
import { TerminationIncompleteError } from '../termination/termination-errors.js';
import type { TerminationReport } from '../termination/termination-report.js';
import type { TerminationRequest } from '../termination/termination-request.js';
import type {
  ContainmentOutcome,
  ContainmentOutcomeKind,
  ContainmentReport,
  CredentialFacts,
} from './containment-outcome.js';
import { reportContainment } from './containment-report.js';
import { CredentialLookup } from './credential-lookup.js';
import { quarantineCredential } from './quarantine.js';
import { refusalMessage, rotateCredential } from './rotate.js';

const DRY_RUN_KIND: Record<ContainAction, ContainmentOutcomeKind> = {
  rotate: 'would_rotate',
  deactivate: 'would_deactivate',
};

/** One credential to contain, or why none will be: the sessions that used it, grouped. */
interface Subject {
  facts: CredentialFacts;
  sessionIds: string[];
  credential?: PamCredential;
  /** Why nothing is done to it: an outcome kind and its message. */
  decided?: { outcome: ContainmentOutcomeKind; message: string; error?: ResponderError };
}

function protection(
  session: NonNullable<Outcome['session']>,
  credential: PamCredential | undefined,
  settings: TerminationSettings,
): string | undefined {
  const covered = (entries: string[], name: string | null | undefined) =>
    name !== null &&
    name !== undefined &&
    entries.some((entry) => protects(parseAccountName(entry), parseAccountName(name)));
  if (covered(settings.protectedUsers, session.user)) return `user "${session.user}" is protected (PROTECTED_USERS)`;
  if (
    covered(settings.protectedCredentials, session.credential) ||
    covered(settings.protectedCredentials, credential?.username)
  )
    return `credential "${session.credential}" is protected (PROTECTED_CREDENTIALS)`;
  return undefined;
}

/** The terminated sessions' credentials, looked up once each (several sessions may share one). */
async function subjectsOf(
  sessions: Outcome[],
  settings: TerminationSettings,
  lookup: CredentialLookup,
): Promise<Subject[]> {
  const byKey = new Map<string, Subject>();
  for (const outcome of sessions) {
    const session = outcome.session;
    if (!session) continue;
    const host = splitDevice(session.device).host;
    let subject: Subject;
    try {
      const found = await lookup.find(session.credential, host);
      const facts: CredentialFacts = {
        id: 'found' in found ? found.found.id : null,
        username: session.credential,
        device: host,
      };
      const key = 'found' in found ? `id:${found.found.id}` : `name:${session.credential}@${host}`;
      subject = byKey.get(key) ?? {
        facts,
        sessionIds: [],
        ...('found' in found
          ? { credential: found.found }
          : { decided: { outcome: 'not_contained', message: found.reason } }),
      };
      byKey.set(key, subject);
    } catch (error) {
      // The list could not be read: this credential cannot be told, which is a failure, not a guess.
      const failure =
        error instanceof ResponderError ? error : new TerminationIncompleteError(String(error), { cause: error });
      subject = {
        facts: { id: null, username: session.credential, device: host },
        sessionIds: [],
        decided: {
          outcome: 'failed',
          message: `PAM's credential list could not be read: ${failure.message}`,
          error: failure,
        },
      };
      byKey.set(`failed:${outcome.session_id}`, subject);
    }
    subject.sessionIds.push(outcome.session_id);
    const protectedBy = protection(session, subject.credential, settings);
    if (protectedBy && subject.decided?.outcome !== 'failed')
      subject.decided = { outcome: 'skipped_protected', message: protectedBy };
  }
  return [...byKey.values()];
}

/** Every asked action on one credential, rotation first; a failed rotation does not keep the door open. */
async function contain(
  subject: Subject & { credential: PamCredential },
  actions: ContainAction[],
  request: TerminationRequest,
  options: PamCallOptions,
): Promise<ContainmentOutcome[]> {
  const settings = containmentSettings();
  const outcomes: ContainmentOutcome[] = [];
  for (const action of actions) {
    const base = { action, credential: subject.facts, session_ids: subject.sessionIds };
    try {
      const result =
        action === 'rotate'
          ? await rotateCredential(subject.credential.id, options)
          : await quarantineCredential(subject.credential.id, settings, { ...options, reason: request.reason });
      outcomes.push({ ...base, ...result, contained_age_ms: ageOf(request) });
    } catch (caught) {
      const error =
        caught instanceof ResponderError ? caught : new TerminationIncompleteError(String(caught), { cause: caught });
      outcomes.push({
        ...base,
        outcome: 'failed',
        message: refusalMessage(error),
        error,
        contained_age_ms: ageOf(request),
      });
    }
  }
  return outcomes;
}

function ageOf(request: TerminationRequest): number {
  return Date.now() - (request.occurredAt ?? Date.now());
}

/**
 * Closes the door after a termination: for each session the report shows terminated (in a dry run,
 * would be), the credential it used is rotated and/or deactivated, as the request's `contain` asks.
 * Guardrails: protected users and credentials are skipped; more than MAX_CREDENTIALS_PER_REQUEST
 * credentials are all blocked (alarm, nothing done); a dry run changes nothing in PAM. Each outcome
 * is logged, counted, audited and noted on the findings. Nothing asked, nothing done: undefined.
 */
export async function containCredentials(
  request: TerminationRequest,
  report: TerminationReport,
  settings: TerminationSettings,
  options: PamCallOptions,
): Promise<ContainmentReport | undefined> {
  const actions = request.contain ?? [];
  if (actions.length === 0) return undefined;
  const { maxCredentialsPerRequest, credentialListMaxAgeMs } = containmentSettings();
  // Also those this deployment terminated before (its records): Lambda's retry of a request whose containment
  // failed finds its sessions ended.
  const ended = report.dry_run ? [] : report.outcomes.filter((o) => o.outcome === 'already_ended');
  const ours = await terminatedAmong(
    indexSettings().bucket,
    ended.map((o) => o.session_id),
  );
  const sessions = report.outcomes.filter((o) =>
    report.dry_run ? o.outcome === 'would_terminate' : o.outcome === 'terminated' || ours.has(o.session_id),
  );
  const subjects = await subjectsOf(sessions, settings, new CredentialLookup(credentialListMaxAgeMs, options));
  /** One outcome per asked action, the same for each (or per action, from a function). */
  const each = (
    subject: Subject,
    kind: ContainmentOutcomeKind | ((action: ContainAction) => ContainmentOutcomeKind),
    message?: string,
    error?: ResponderError,
  ) =>
    actions.map(
      (action): ContainmentOutcome => ({
        action,
        outcome: typeof kind === 'function' ? kind(action) : kind,
        credential: subject.facts,
        session_ids: subject.sessionIds,
        ...(message ? { message } : {}),
        ...(error ? { error } : {}),
        contained_age_ms: ageOf(request),
      }),
    );
  const decided = subjects.flatMap((s) =>
    s.decided ? each(s, s.decided.outcome, s.decided.message, s.decided.error) : [],
  );
  const candidates = subjects.filter(
    (s): s is Subject & { credential: PamCredential } => !s.decided && s.credential !== undefined,
  );
  let acted: ContainmentOutcome[];
  if (candidates.length > maxCredentialsPerRequest) {
    const message = `${candidates.length} credentials to contain, more than MAX_CREDENTIALS_PER_REQUEST (${maxCredentialsPerRequest}): none was contained, a human decides`;
    acted = candidates.flatMap((subject) => each(subject, 'blocked', message));
  } else if (report.dry_run) {
    acted = candidates.flatMap((subject) => each(subject, (action) => DRY_RUN_KIND[action]));
  } else {
    acted = (await Promise.all(candidates.map((subject) => contain(subject, actions, request, options)))).flat();
  }
  return reportContainment(
    actions,
    [...acted, ...decided],
    { reason: report.reason, requested_by: report.requested_by, dry_run: report.dry_run, trigger: report.trigger },
    { request, sessions: report.outcomes },
  );
}
