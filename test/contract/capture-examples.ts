import { dropEvent, httpApiEvent, lambdaContext, listEvent } from '../../infra/local/lambda-events.js';
import { type LocalPam, startLocalPam } from '../../infra/local/local-pam.js';
import { seedSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { forgetCachedSecret } from '../../lib/pam/pam-secret.js';
import { type Handler, loadHandler } from '../support/handlers.js';

/** The seeded sessions' clock: their start and end times are the same on every capture. */
const SEEDED_AT = Date.parse('2026-11-23T10:15:00.000Z');

export interface CapturedExample {
  summary: string;
  /** What was sent: the query string, or the JSON body. */
  request?: unknown;
  status: number;
  body: unknown;
}

export const EXAMPLE_NAMES = [
  'list_live',
  'list_index',
  'list_snapshot',
  'list_unknown_filter',
  'list_snapshot_not_found',
  'list_configuration_error',
  'list_pam_bad_response',
  'list_secrets_unavailable',
  'list_pam_timeout',
  'delete_terminated',
  'delete_already_ended',
  'delete_would_terminate',
  'delete_invalid_id',
  'delete_session_not_found',
  'delete_protected_session',
  'delete_pam_rejected',
  'terminate_preview',
  'terminate_by_id',
  'terminate_blocked',
  'confirm_terminated',
  'confirm_already_confirmed',
  'confirm_not_found',
  'terminate_invalid_request',
  'terminate_prefix_too_wide',
  'terminate_contained',
  'credential_reactivated',
  'credential_quarantined',
  'credential_not_found',
  'credential_invalid_request',
] as const;

export type ExampleName = (typeof EXAMPLE_NAMES)[number];
export type CapturedExamples = Record<ExampleName, CapturedExample>;

/**
 * What varies from run to run (clocks, ages, the export's key), set to fixed values so the document
 * changes only when a shape or a message does. Only these keys; every other value is as the handler sent it.
 */
const PINNED: Record<string, unknown> = {
  event_age_ms: 212,
  contained_age_ms: 318,
  reactivate_at: '2026-11-23T11:16:00.000Z',
  age_ms: 41_250,
  listed_at: '2026-11-23T10:14:18.862Z',
  exported_at: '2026-11-23T02:00:04.511Z',
  key: 'remote-sessions/dt=2026-11-23/2026-11-23T02:00:04.511Z.jsonl.gz',
  s3_uri: 's3://pam-session-inventory-prod/remote-sessions/dt=2026-11-23/2026-11-23T02:00:04.511Z.jsonl.gz',
};

function pin(value: unknown, key?: string): unknown {
  if (key === 'index_age_ms') return value === null ? null : PINNED.age_ms;
  if (key === 'reactivate_at') return pinReactivation(value);
  if (key !== undefined && key in PINNED) return PINNED[key];
  if (Array.isArray(value)) return value.map((item) => pin(item));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, pin(inner, name)]));
  }
  return value;
}

const RESET_ENV = ['DRY_RUN', 'PROTECTED_USERS', 'MAX_SESSIONS_PER_EVENT', 'PAM_LIST_TIMEOUT_MS', 'PAM_MAX_ATTEMPTS'];

/** A reactivation time pinned only where there is one: null stays null (only a human reactivates). */
function pinReactivation(value: unknown): unknown {
  return value === null ? null : PINNED.reactivate_at;
}

/**
 * Runs the real list, drop, index-sessions and export handlers against the local stack (the PAM Core
 * simulator, Secrets Manager, EventBridge and S3 stand-ins) and keeps one response of each kind the
 * document shows. Handlers are loaded without the contract check: the document is being made from them.
 * Needs the export's bundle (npm run build).
 */
export async function captureExamples(): Promise<CapturedExamples> {
  const local = await startLocalPam({ sessions: seedSessions(SEEDED_AT) });
  const saved = { ...process.env };
  Object.assign(process.env, local.env, {
    PAM_RETRY_BASE_DELAY_MS: '5',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  try {
    const options = { contract: false } as const;
    const list = await loadHandler('list', 'source', options);
    const drop = await loadHandler('drop', 'source', options);
    const confirm = await loadHandler('confirm', 'source', options);
    const indexSessions = await loadHandler('index-sessions', 'source', options);
    const exportSessions = await loadHandler('export', 'bundle', options);
    const credentials = await loadHandler('credentials', 'source', options);
    return await scenarios(local, { list, drop, confirm, indexSessions, exportSessions, credentials });
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
    await local.close();
  }
}

/** Reads the secret until the stand-in stops answering with the failures it was told to, so none is left over. */
async function drainFailures(local: LocalPam): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const response = await fetch(local.secrets.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'secretsmanager.GetSecretValue' },
      body: JSON.stringify({ SecretId: local.secretId }),
    });
    if (response.ok) return;
  }
  throw new Error('the Secrets Manager stand-in kept failing');
}

interface Handlers {
  list: Handler;
  drop: Handler;
  confirm: Handler;
  indexSessions: Handler;
  exportSessions: Handler;
  credentials: Handler;
}

async function scenarios(
  local: LocalPam,
  { list, drop, confirm, indexSessions, exportSessions, credentials }: Handlers,
) {
  const captured: Partial<CapturedExamples> = {};
  const keep = (name: ExampleName, summary: string, request: unknown, response: unknown) => {
    const { statusCode, body } = response as { statusCode: number; body: string };
    captured[name] = {
      summary,
      ...(request === undefined ? {} : { request }),
      status: statusCode,
      body: pin(JSON.parse(body)),
    };
  };
  const reset = async () => {
    for (const name of RESET_ENV) delete process.env[name];
    local.pam.clearFaults();
    local.pam.sessions.splice(0, local.pam.sessions.length, ...seedSessions(SEEDED_AT));
    local.pam.sessionsChanged();
    local.pam.credentialApi.reset();
    local.scheduler.schedules.clear();
    await local.s3.clear();
    forgetCachedSecret();
  };
  const onCredential = async (name: ExampleName, summary: string, id: string, action: string, request: unknown) => {
    const event = httpApiEvent({
      method: 'POST',
      routeKey: `POST /credentials/{id}/${action}`,
      rawPath: `/credentials/${id}/${action}`,
      pathParameters: { id },
    });
    keep(name, summary, request, await credentials({ ...event, body: JSON.stringify(request) }, lambdaContext()));
  };
  const get = async (name: ExampleName, summary: string, query: Record<string, string>) => {
    const search = new URLSearchParams(query).toString();
    keep(
      name,
      `${summary}: GET /sessions${search ? `?${search}` : ''}`,
      query,
      await list(listEvent(query), lambdaContext()),
    );
  };
  const remove = async (name: ExampleName, summary: string, sessionId: string) =>
    keep(name, summary, undefined, await drop(dropEvent(sessionId), lambdaContext()));
  const post = async (name: ExampleName, summary: string, request: unknown) =>
    keep(
      name,
      summary,
      request,
      await drop(
        {
          ...httpApiEvent({ method: 'POST', routeKey: 'POST /sessions/terminate', rawPath: '/sessions/terminate' }),
          body: JSON.stringify(request),
        },
        lambdaContext(),
      ),
    );
  const confirmBlocked = async (name: ExampleName, summary: string, request: unknown) =>
    keep(
      name,
      summary,
      request,
      await confirm(
        {
          ...httpApiEvent({
            method: 'POST',
            routeKey: 'POST /sessions/terminate/confirm',
            rawPath: '/sessions/terminate/confirm',
          }),
          body: JSON.stringify(request),
        },
        lambdaContext(),
      ),
    );
  const idOf = (user: string, device?: string) => {
    const session = local.pam.sessions.find(
      (candidate) =>
        candidate.user === user && candidate.end === null && (device === undefined || candidate.device === device),
    );
    if (!session) throw new Error(`the seed has no open session of ${user}`);
    return session.session_id;
  };
  const index = () =>
    indexSessions({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, lambdaContext());

  await reset();
  await get('list_live', "PAM's live list: ssh sessions, two to a page", { protocol: 'ssh', limit: '2' });
  await get('list_unknown_filter', 'An unknown filter', { status: 'open' });
  await get('list_snapshot_not_found', 'source=snapshot before any export', { source: 'snapshot' });
  await index();
  await get('list_index', 'active=true from the fresh active-session index', { active: 'true', limit: '2' });
  await exportSessions(
    { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} },
    lambdaContext({ remainingMs: 60_000 }),
  );
  await get('list_snapshot', "The newest export's active sessions of one user", {
    source: 'snapshot',
    active: 'true',
    user: 'aoliveira',
  });

  await reset();
  local.pam.injectFault(
    'list',
    { kind: 'status', status: 503, body: '<html><body>Service Unavailable</body></html>', contentType: 'text/html' },
    3,
  );
  await get('list_pam_bad_response', "A proxy's HTML page instead of PAM's answer, three times", {});
  await reset();
  Object.assign(process.env, { PAM_LIST_TIMEOUT_MS: '250', PAM_MAX_ATTEMPTS: '1' });
  local.pam.injectFault('list', { kind: 'delay', ms: 1_000 });
  await get('list_pam_timeout', 'The live list did not answer in time', {});
  await reset();
  local.secrets.failNext('ThrottlingException', 10);
  await get('list_secrets_unavailable', 'Secrets Manager throttled', {});
  await drainFailures(local);
  await reset();
  const secretId = process.env.PAM_SECRET_ID;
  process.env.PAM_SECRET_ID = 'pam-session-responder/absent';
  await get('list_configuration_error', 'The secret does not exist', {});
  process.env.PAM_SECRET_ID = secretId;

  await reset();
  await index();
  const target = idOf('aoliveira', '10.66.50.9:22');
  await remove('delete_terminated', 'Terminated, its facts from the active-session index', target);
  await remove('delete_already_ended', 'Already ended (here: terminated a moment before)', target);
  process.env.DRY_RUN = 'true';
  await remove('delete_would_terminate', 'DRY_RUN=true: nothing terminated', idOf('jsilva'));
  delete process.env.DRY_RUN;
  await remove('delete_invalid_id', 'An id that cannot be a session id', 'abc def');
  await remove(
    'delete_session_not_found',
    'An id the PAM Core does not list',
    '0000000000000000000000000000000000000000',
  );
  process.env.PROTECTED_USERS = 'break_glass';
  await remove('delete_protected_session', 'A protected account', idOf('break_glass'));
  await reset();
  local.pam.injectFault('drop', {
    kind: 'status',
    status: 500,
    body: JSON.stringify({
      response: { status: 500, message: 'An error occurred while droping session', error: true, error_code: 1 },
    }),
  });
  await remove('delete_pam_rejected', 'PAM refused the drop of a session it still lists as active', idOf('jsilva'));

  await reset();
  await index();
  await post('terminate_preview', 'dry_run: what a match would cut', {
    match: { protocol: 'ssh', user: 'aoliveira' },
    reason: 'INC-4821 preview',
    dry_run: true,
  });
  process.env.PROTECTED_USERS = 'break_glass';
  await post('terminate_by_id', 'By id: one terminated, one protected account skipped', {
    session_ids: [idOf('mchen', '10.66.40.21:3389'), idOf('break_glass')],
    reason: 'INC-4821: credential theft',
  });
  await reset();
  await index();
  process.env.MAX_SESSIONS_PER_EVENT = '1';
  const overCap = { match: { origin_ip: '203.0.113.77' }, reason: 'INC-4821: sessions from the attacker address' };
  await post('terminate_blocked', 'More droppable sessions than MAX_SESSIONS_PER_EVENT: all blocked', overCap);
  // The blocked request's trigger id is API Gateway's request id of its POST.
  const blockedId = (captured.terminate_blocked as { body: { trigger: { event_id: string } } }).body.trigger.event_id;
  const confirmation = { trigger_id: blockedId, reason: 'INC-4821: reviewed, all sessions are the attacker' };
  await confirmBlocked('confirm_terminated', 'The blocked request, confirmed by an analyst', confirmation);
  await confirmBlocked('confirm_already_confirmed', 'The same confirmation again', confirmation);
  await confirmBlocked('confirm_not_found', 'A trigger id no request the cap blocked has', {
    trigger_id: 'no-such-request',
    reason: 'INC-4821',
  });
  await post('terminate_invalid_request', 'Neither ids nor a match', { reason: 'INC-4821' });
  await post('terminate_prefix_too_wide', 'An origin_ip block wider than MIN_PREFIX_LENGTH_IPV4', {
    match: { origin_ip: '10.0.0.0/8' },
    reason: 'INC-4821',
  });
  await reset();
  await index();
  await post('terminate_contained', 'Terminated, and its credential rotated and quarantined for QUARANTINE_MINUTES', {
    session_id: idOf('aoliveira', '10.66.50.10:22'),
    reason: 'INC-4821: ec2-user used from the attacker address',
    contain: ['rotate', 'deactivate'],
  });
  const quarantined = local.pam.credentialApi.credentials.find((c) => c.username === 'ec2-user')?.id ?? '';
  await onCredential('credential_quarantined', 'A quarantine extended to 4 hours', quarantined, 'quarantine', {
    reason: 'INC-4821: under investigation',
    minutes: 240,
  });
  await onCredential('credential_reactivated', 'Reactivated by hand, its schedule deleted', quarantined, 'reactivate', {
    reason: 'INC-4821 closed: false positive',
  });
  await onCredential('credential_not_found', 'A credential id PAM does not know (1007)', '999999', 'reactivate', {
    reason: 'INC-4821',
  });
  await onCredential('credential_invalid_request', 'Not a numeric credential id', 'root@10.66.50.10', 'reactivate', {
    reason: 'INC-4821',
  });
  await reset();

  const missing = EXAMPLE_NAMES.filter((name) => captured[name] === undefined);
  if (missing.length > 0) throw new Error(`no example captured for ${missing.join(', ')}`);
  return captured as CapturedExamples;
}
