import { Document } from 'yaml';
import * as z from 'zod/mini';
import { CONTAINMENT_OUTCOME_KINDS } from '../../lib/containment/containment-outcome.js';
import { confirmationSchema } from '../../lib/invocation/confirmation-input.js';
import { credentialBodySchema } from '../../lib/invocation/credential-input.js';
import { credentialIdSchema } from '../../lib/pam/credential-api.js';
import { listQuerySchema, MAX_PAGE_SIZE } from '../../lib/sessions/session-filter.js';
import { sessionIdSchema } from '../../lib/sessions/session-id.js';
import { OUTCOME_KINDS } from '../../lib/termination/outcome.js';
import { MAX_SESSION_IDS, terminationDetailSchema } from '../../lib/termination/termination-request.js';
import type { CapturedExamples, ExampleName } from './capture-examples.js';

type Schema = Record<string, unknown>;

/**
 * What the handlers validate, as JSON Schema: the input side of the zod schemas (before transforms).
 * Refinements zod cannot express (trimmed emptiness, "at least one of", address syntax, limit's range)
 * are left to the descriptions; test/contract/openapi.contract.test.ts checks that every input the
 * handlers accept, these schemas accept too.
 */
export function inputSchemas(): {
  query: Schema;
  sessionId: Schema;
  terminationRequest: Schema;
  confirmation: Schema;
  credentialId: Schema;
  credentialRequest: Schema;
} {
  const json = (schema: z.ZodMiniType) => {
    const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Schema;
    return rest;
  };
  return {
    query: json(listQuerySchema),
    sessionId: json(sessionIdSchema),
    terminationRequest: json(terminationDetailSchema),
    confirmation: json(confirmationSchema),
    credentialId: json(credentialIdSchema),
    credentialRequest: json(credentialBodySchema),
  };
}

/** One line per query parameter; the generator refuses a parameter the zod schema has and this lacks, or the reverse. */
const QUERY_DESCRIPTIONS: Record<string, string> = {
  source:
    '`snapshot`: answer from the newest inventory export (filters apply). Otherwise `active=true` answers from the ' +
    "fresh active-session index when there is one, and anything else from the PAM Core's live list. The response's " +
    '`source` says which (`live`, `index` or `snapshot`).',
  active: 'Only open (`true`) or ended (`false`) sessions.',
  user: 'Exact match on the account that opened the session.',
  origin_ip: 'Exact match on the address the session came from.',
  device: 'Exact match on `host:port`, or on the host alone.',
  protocol: 'Exact match (`ssh`, `rdp`, `https`, …).',
  credential: 'Exact match on the credential used on the device.',
  limit: `Sessions per page, 1 to ${MAX_PAGE_SIZE} (default 1000); a page also stops before 5 MB.`,
  cursor:
    "The previous page's `next`, unchanged, with the same filters; a cursor made for other filters, or not by this " +
    'API, is refused (400).',
};

function queryParameters(query: Schema): Schema[] {
  const properties = query.properties as Record<string, Schema>;
  const names = Object.keys(properties);
  const undocumented = names.filter((name) => !(name in QUERY_DESCRIPTIONS));
  const stale = Object.keys(QUERY_DESCRIPTIONS).filter((name) => !names.includes(name));
  if (undocumented.length > 0 || stale.length > 0) {
    throw new Error(`query parameters without a description: [${undocumented}]; described but gone: [${stale}]`);
  }
  return names.map((name) => ({
    name,
    in: 'query',
    required: false,
    description: QUERY_DESCRIPTIONS[name],
    schema: properties[name],
  }));
}

const nullable = (type: string, extra: Schema = {}): Schema => ({ type: [type, 'null'], ...extra });
const count: Schema = { type: 'integer', minimum: 0 };
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const object = (properties: Record<string, Schema>, optional: string[] = []): Schema => ({
  type: 'object',
  required: Object.keys(properties).filter((name) => !optional.includes(name)),
  properties,
});

const OUTCOMES = [...OUTCOME_KINDS];

/** Response bodies, written from the handlers' types (lib/inventory/list-sessions.ts, lib/invocation/termination-response.ts). */
const RESPONSE_SCHEMAS: Record<string, Schema> = {
  Session: {
    description:
      "One remote session: the PAM Core's own field names (older versions' `credencial`/`dispositivo` read as " +
      '`credential`/`device`), every scalar as text, plus `active` (no end yet), `device_host` and `device_port`.',
    ...object({
      id: nullable('string'),
      session_id: { type: 'string' },
      user: nullable('string'),
      origin_ip: nullable('string'),
      credential: nullable('string'),
      device: nullable('string'),
      protocol: nullable('string'),
      proxy: nullable('string'),
      start: nullable('string'),
      end: nullable('string'),
      time: nullable('string'),
      prevent_purge: nullable('string'),
      request: nullable('string'),
      ITSM: nullable('string'),
      active: { type: 'boolean' },
      device_host: nullable('string'),
      device_port: nullable('integer', { minimum: 1, maximum: 65535 }),
    }),
  },
  LivePage: {
    description: "A page of the PAM Core's live list, read as it arrives.",
    ...object({
      sessions: { type: 'array', items: ref('Session') },
      count,
      next: nullable('string', { description: "The next page's `cursor`; null after the last page." }),
      malformed: { ...count, description: 'Records PAM sent that could not be read, left out (logged).' },
      source: { const: 'live' },
    }),
  },
  IndexPage: {
    description: 'A page of the active-session index (`active=true` while it is fresh), in `session_id` order.',
    ...object({
      sessions: { type: 'array', items: ref('Session') },
      count,
      next: nullable('string'),
      source: { const: 'index' },
      index: object({
        listed_at: { type: 'string', description: 'When index-sessions read the list (ISO 8601).' },
        age_ms: count,
        history_size: { ...count, description: 'Sessions the PAM Core listed, ended ones included.' },
      }),
    }),
  },
  SnapshotPage: {
    description:
      'A page of the newest inventory export (`source=snapshot`); every page of one cursor reads the same export.',
    ...object({
      sessions: { type: 'array', items: ref('Session') },
      count,
      next: nullable('string'),
      source: { const: 'snapshot' },
      snapshot: object({
        exported_at: { type: 'string' },
        key: { type: 'string' },
        s3_uri: { type: 'string' },
      }),
    }),
  },
  SessionsPage: {
    oneOf: [ref('LivePage'), ref('IndexPage'), ref('SnapshotPage')],
  },
  SessionTermination: {
    description: 'One session asked for by id, and what became of it.',
    ...object(
      {
        session_id: { type: 'string' },
        status: {
          enum: ['terminated', 'already_ended', 'would_terminate'],
          description: '`would_terminate` under `DRY_RUN`.',
        },
        resolved_from: ref('ResolvedFrom'),
        index_age_ms: ref('IndexAge'),
        event_age_ms: ref('EventAge'),
        confirmed: ref('Confirmed'),
        containment: ref('Containment'),
      },
      ['confirmed', 'containment'],
    ),
  },
  ResolvedFrom: {
    enum: ['index', 'live'],
    description: "Where the session's facts came from: the active-session index, or the PAM Core's live list.",
  },
  IndexAge: nullable('integer', {
    minimum: 0,
    description: 'How old the active-session index was when the request was resolved; null without a usable one.',
  }),
  EventAge: {
    ...count,
    description: "From the request's arrival (or the event's time) to this outcome: for `terminated`, PAM's answer.",
  },
  Confirmed: nullable('boolean', {
    description:
      'For `terminated` only: whether the PAM Core shows the session ended when looked up after the DELETE (`true`), still active after every recheck (`false`, alarmed), or could not tell (`null`: no numeric id, no lookup route, `ENDED_CHECK_ATTEMPTS` 0).',
  }),
  SessionFacts: object({
    id: nullable('string'),
    user: nullable('string'),
    origin_ip: nullable('string'),
    device: nullable('string'),
    credential: nullable('string'),
    protocol: nullable('string'),
  }),
  Outcome: object(
    {
      session_id: { type: 'string' },
      outcome: { enum: OUTCOMES },
      session: { oneOf: [ref('SessionFacts'), { type: 'null' }] },
      message: { type: 'string' },
      resolved_from: ref('ResolvedFrom'),
      index_age_ms: ref('IndexAge'),
      event_age_ms: ref('EventAge'),
      confirmed: ref('Confirmed'),
    },
    ['message', 'confirmed'],
  ),
  Trigger: object(
    {
      event_id: { type: 'string', description: "API Gateway's request id, for a request over this API." },
      source: { type: 'string', description: '`api` for a request over this API.' },
      detail_type: { type: 'string', description: 'The route, for a request over this API.' },
      finding_id: { type: 'string' },
      finding_title: { type: 'string' },
      caller: { type: 'string', description: "The signing IAM principal's ARN." },
      confirms: { type: 'string', description: 'For a confirmation: the trigger id of the blocked request.' },
    },
    ['finding_id', 'finding_title', 'caller', 'confirms'],
  ),
  TerminationReport: {
    description:
      'Every outcome of one termination request (at most 1000 in the response; `summary` counts them all), the ' +
      'audit result, and what could not be done.',
    ...object(
      {
        reason: { type: 'string' },
        requested_by: nullable('string', { description: "`requested_by` as given, else the caller's IAM ARN." }),
        dry_run: { type: 'boolean' },
        trigger: ref('Trigger'),
        confirmed_over_cap: {
          const: true,
          description:
            'Set on a confirmation (POST /sessions/terminate/confirm), which lifts the cap for the sessions a blocked ' +
            'request matched; the audit records it with the caller.',
        },
        ignored: { type: 'string' },
        outcomes: { type: 'array', maxItems: 1000, items: ref('Outcome') },
        summary: {
          type: 'object',
          propertyNames: { enum: OUTCOMES },
          additionalProperties: { type: 'integer', minimum: 1 },
        },
        audit: object({ published: count, failed: count }),
        incomplete: {
          description:
            "The request could not be carried out in full (e.g. the live list failed after the index's sessions " +
            'were cut): what the outcomes do not cover, and why.',
          ...object({ code: { type: 'string' }, message: { type: 'string' } }),
        },
        outcomes_truncated: {
          description: 'Set when outcomes were left out of this response; the logs and the audit trail hold each one.',
          ...object({ total: count, shown: count, note: { type: 'string' } }),
        },
        containment: ref('Containment'),
      },
      ['confirmed_over_cap', 'ignored', 'incomplete', 'outcomes_truncated', 'containment'],
    ),
  },
  ContainmentOutcome: {
    description: 'What was done to one credential for one action (docs/containment.md). Never holds a password.',
    ...object(
      {
        action: { enum: ['rotate', 'deactivate', 'reactivate', 'quarantine'] },
        outcome: { enum: [...CONTAINMENT_OUTCOME_KINDS] },
        credential: object({ id: nullable('string'), username: nullable('string'), device: nullable('string') }),
        session_ids: { type: 'array', items: { type: 'string' } },
        message: { type: 'string' },
        reactivate_at: nullable('string', {
          description: 'When the scheduled reactivation runs; null when only a human reactivates it.',
        }),
        contained_age_ms: { ...count, description: "From the request's arrival to PAM's answer for this action." },
      },
      ['message', 'reactivate_at'],
    ),
  },
  Containment: {
    description:
      'Present when the request asked for `contain`: what was done to the credentials of the sessions terminated.',
    ...object({
      actions: { type: 'array', items: { enum: ['rotate', 'deactivate', 'reactivate', 'quarantine'] } },
      outcomes: { type: 'array', items: ref('ContainmentOutcome') },
      summary: {
        type: 'object',
        propertyNames: { enum: [...CONTAINMENT_OUTCOME_KINDS] },
        additionalProperties: { type: 'integer', minimum: 1 },
      },
      audit: object({ published: count, failed: count }),
    }),
  },
  CredentialResponse: {
    description: 'What became of the credential named in the path.',
    ...object(
      {
        credential_id: { type: 'string' },
        action: { enum: ['reactivate', 'quarantine'] },
        outcome: { enum: ['reactivated', 'quarantined', 'already_quarantined'] },
        reactivate_at: nullable('string', {
          description: 'For a quarantine: when the scheduled reactivation runs; null when only a human reactivates it.',
        }),
        message: { type: 'string' },
        audit: object({ published: count, failed: count }),
      },
      ['reactivate_at', 'message'],
    ),
  },
};

const ERRORS: Record<string, { description: string; codes: Record<string, string> }> = {
  '400': {
    description: 'Refused; nothing was sent to the PAM Core.',
    codes: { invalid_request: 'a bad id, filter, cursor, termination request or body' },
  },
  '404': {
    description: 'Not found.',
    codes: {
      session_not_found: 'DELETE of an id the PAM Core does not list',
      snapshot_not_found: '`source=snapshot` before any export exists',
      blocked_request_not_found:
        'a confirmation of a trigger id that no request the cap blocked in the last 15 minutes has',
      credential_not_found: 'a credential id PAM does not know (its error 1007)',
    },
  },
  '409': {
    description: 'A protected session, or a blocked request already confirmed.',
    codes: {
      protected_session:
        "DELETE of a protected user's or credential's session (PROTECTED_USERS, PROTECTED_CREDENTIALS)",
      already_confirmed: 'a confirmation of a blocked request that was already confirmed (once only)',
    },
  },
  '413': {
    description: 'Too large for one response.',
    codes: { response_too_large: 'one session alone is larger than a response can carry' },
  },
  '500': {
    description: 'The deployment is wrong, or something unexpected happened.',
    codes: {
      configuration_error:
        'PAM_SECRET_ID unset, the secret missing, unreadable or malformed (the key is named), a bad setting, a missing bucket',
      internal_error: "unexpected; the message names the request id under which the function's logs hold the details",
    },
  },
  '502': {
    description: 'The PAM Core failed.',
    codes: {
      pam_rejected: 'PAM answered an error envelope (its message and error_code are in the message)',
      pam_unauthorized: 'PAM refused the OAuth credentials, even after re-reading the secret',
      pam_bad_response: "not PAM's envelope: a gateway page, HTML, an empty or truncated body",
      pam_unreachable: 'connection refused or reset',
      pam_tls: "the PAM Core's certificate did not verify",
      termination_incomplete: 'the drop failed unexpectedly',
    },
  },
  '503': {
    description: 'A dependency is unavailable for now; try again.',
    codes: {
      secrets_unavailable: 'Secrets Manager throttled or failed',
      storage_unavailable: 'S3 throttled or failed',
    },
  },
  '504': {
    description: 'The PAM Core did not answer in time, after the retries.',
    codes: { pam_timeout: 'for GET /sessions, the message points to `?active=true` and `?source=snapshot`' },
  },
};

/** What the two credential routes answer besides 200 (lib/containment/credential-request.ts). */
const CREDENTIAL_ROUTE_ERRORS: Record<string, string[]> = {
  '400': ['invalid_request'],
  '404': ['credential_not_found'],
  '500': ['configuration_error', 'internal_error'],
  '502': ['pam_rejected', 'pam_unauthorized', 'pam_bad_response', 'pam_unreachable', 'pam_tls'],
  '503': ['secrets_unavailable'],
  '504': ['pam_timeout'],
};

/** Which error codes each route can answer, by status. */
const ROUTE_ERRORS: Record<string, Record<string, string[]>> = {
  'GET /sessions': {
    '400': ['invalid_request'],
    '404': ['snapshot_not_found'],
    '413': ['response_too_large'],
    '500': ['configuration_error', 'internal_error'],
    '502': ['pam_rejected', 'pam_unauthorized', 'pam_bad_response', 'pam_unreachable', 'pam_tls'],
    '503': ['secrets_unavailable', 'storage_unavailable'],
    '504': ['pam_timeout'],
  },
  'DELETE /sessions/{sessionId}': {
    '400': ['invalid_request'],
    '404': ['session_not_found'],
    '409': ['protected_session'],
    '500': ['configuration_error', 'internal_error'],
    '502': [
      'pam_rejected',
      'pam_unauthorized',
      'pam_bad_response',
      'pam_unreachable',
      'pam_tls',
      'termination_incomplete',
    ],
    '503': ['secrets_unavailable'],
    '504': ['pam_timeout'],
  },
  'POST /sessions/terminate': {
    '400': ['invalid_request'],
    '500': ['configuration_error', 'internal_error'],
    '502': ['pam_rejected', 'pam_unauthorized', 'pam_bad_response', 'pam_unreachable', 'pam_tls'],
    '503': ['secrets_unavailable'],
    '504': ['pam_timeout'],
  },
  'POST /sessions/terminate/confirm': {
    '400': ['invalid_request'],
    '404': ['blocked_request_not_found'],
    '409': ['already_confirmed'],
    '500': ['configuration_error', 'internal_error'],
    '502': ['pam_rejected', 'pam_unauthorized', 'pam_bad_response', 'pam_unreachable', 'pam_tls'],
    '503': ['secrets_unavailable'],
    '504': ['pam_timeout'],
  },
  'POST /credentials/{id}/reactivate': CREDENTIAL_ROUTE_ERRORS,
  'POST /credentials/{id}/quarantine': CREDENTIAL_ROUTE_ERRORS,
};

/** Every code of lib/core/errors.ts and the error responder, with its status: what docs/http-api.md's table lists. */
export function errorCodes(): Array<{ status: number; code: string }> {
  return Object.entries(ERRORS).flatMap(([status, { codes }]) =>
    Object.keys(codes).map((code) => ({ status: Number(status), code })),
  );
}

type Examples = Record<string, { summary: string; value: unknown }>;

function jsonContent(schema: Schema, examples: Examples = {}): Schema {
  return {
    'application/json': { schema, ...(Object.keys(examples).length > 0 ? { examples } : {}) },
  };
}

/** The route's error responses by status, each with the captured examples of its codes (one elsewhere is a mistake). */
function errorResponses(route: string, captured: CapturedExamples, names: ExampleName[]): Record<string, Schema> {
  const statuses = ROUTE_ERRORS[route] ?? {};
  for (const name of names) {
    const { status, body } = captured[name];
    const code = (body as { error?: { code?: string } }).error?.code ?? '';
    if (!statuses[status]?.includes(code)) throw new Error(`${name}: ${route} does not list ${status} ${code}`);
  }
  const responses: Record<string, Schema> = {};
  for (const [status, codes] of Object.entries(statuses)) {
    const known = ERRORS[status];
    if (!known) throw new Error(`status ${status} has no entry in ERRORS`);
    const examples = Object.fromEntries(
      names
        .filter((name) => String(captured[name].status) === status)
        .map((name) => [name, { summary: captured[name].summary, value: captured[name].body }]),
    );
    responses[status] = {
      description: `${known.description} ${codes.map((code) => `\`${code}\`: ${known.codes[code]}`).join('; ')}.`,
      content: jsonContent(object({ error: object({ code: { enum: codes }, message: { type: 'string' } }) }), examples),
    };
  }
  return responses;
}

const GATEWAY_RESPONSES: Record<string, Schema> = {
  '403': {
    description:
      'API Gateway\'s IAM authorizer refused the request before the function ran: not signed ("Missing Authentication ' +
      'Token"), a signature that does not match ("The request signature we calculated does not match the signature you ' +
      'provided…"), an unknown or expired key or token ("The security token included in the request is invalid"), or a ' +
      'caller without `execute-api:Invoke` on the route.',
    content: jsonContent({ $ref: '#/components/schemas/GatewayMessage' }),
  },
  '429': {
    description: "API Gateway throttled the request, or the function's reserved concurrency is taken: try again.",
    content: jsonContent({ $ref: '#/components/schemas/GatewayMessage' }),
  },
};

/**
 * docs/openapi.yaml: the HTTP API as deployed (serverless.yml's httpApi routes behind the IAM authorizer),
 * its inputs from the zod schemas the handlers validate with, its examples captured from the real handlers.
 */
export function buildOpenApiDocument(captured: CapturedExamples): Schema {
  const inputs = inputSchemas();
  const pick = (names: ExampleName[]): Examples =>
    Object.fromEntries(names.map((name) => [name, { summary: captured[name].summary, value: captured[name].body }]));
  const listErrors: ExampleName[] = [
    'list_unknown_filter',
    'list_snapshot_not_found',
    'list_configuration_error',
    'list_pam_bad_response',
    'list_secrets_unavailable',
    'list_pam_timeout',
  ];
  const deleteErrors: ExampleName[] = [
    'delete_invalid_id',
    'delete_session_not_found',
    'delete_protected_session',
    'delete_pam_rejected',
  ];
  const postErrors: ExampleName[] = ['terminate_invalid_request', 'terminate_prefix_too_wide'];
  const confirmErrors: ExampleName[] = ['confirm_already_confirmed', 'confirm_not_found'];
  const credentialErrors: ExampleName[] = ['credential_not_found', 'credential_invalid_request'];
  const credentialRoute = (
    action: 'reactivate' | 'quarantine',
    summary: string,
    description: string,
    examples: ExampleName[],
  ) => ({
    post: {
      operationId: `${action}Credential`,
      summary,
      description,
      parameters: [
        {
          name: 'id',
          in: 'path',
          required: true,
          description: "PAM's numeric credential id (the `credential.id` of a containment outcome).",
          schema: inputs.credentialId,
        },
      ],
      requestBody: {
        required: true,
        description:
          'At most 16 KB. `reason` must not be blank; it and the signing IAM principal are audited. ' +
          (action === 'quarantine'
            ? '`minutes` (0 to 525600) sets the reactivation that many minutes from now (QUARANTINE_MINUTES when not given; 0: only by hand).'
            : '`minutes` is refused here.'),
        content: {
          'application/json': {
            schema: ref('CredentialRequest'),
            examples: { [action]: requestExample(examples[0] as ExampleName) },
          },
        },
      },
      responses: {
        '200': {
          description: 'Done in PAM, the schedule following.',
          content: jsonContent(ref('CredentialResponse'), pick(examples)),
        },
        ...GATEWAY_RESPONSES,
        ...errorResponses(
          `POST /credentials/{id}/${action}`,
          captured,
          action === 'reactivate' ? credentialErrors : [],
        ),
      },
    },
  });
  const sigv4 = [{ sigv4: [] }];
  const requestExample = (name: ExampleName) => ({ summary: captured[name].summary, value: captured[name].request });

  return {
    openapi: '3.1.0',
    info: {
      title: 'pam-session-responder',
      version: '0.1.0',
      summary: 'List and terminate privileged sessions of a senhasegura PAM Core.',
      description:
        'Deployed behind an API Gateway HTTP API whose routes all use the IAM authorizer: sign every request with ' +
        'SigV4 (service `execute-api`) as a principal allowed `execute-api:Invoke` on the route. docs/http-api.md, "Calling ' +
        'the deployed API", has ready-to-run examples. Every handler error is `{"error": {"code", "message"}}` ' +
        'without a stack trace; 403 and 429 come from API Gateway itself, as `{"message"}`.',
    },
    servers: [
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
        description: 'The stack output HttpApiId is the API id (stack pam-session-responder-<stage>).',
        variables: {
          apiId: { default: 'a1b2c3d4e5', description: 'The stack output HttpApiId.' },
          region: { default: 'us-east-1' },
        },
      },
      { url: 'http://localhost:3000', description: '`npm start`: unsigned requests, the PAM Core simulator.' },
    ],
    security: sigv4,
    paths: {
      '/sessions': {
        get: {
          operationId: 'listSessions',
          summary: 'List sessions, a page at a time',
          description:
            'Exact-match filters, all optional. An unknown query parameter is refused (400), so a typo never ' +
            'silently returns everything.',
          parameters: queryParameters(inputs.query),
          responses: {
            '200': {
              description: 'One page; `source` says where it came from.',
              content: jsonContent(ref('SessionsPage'), pick(['list_live', 'list_index', 'list_snapshot'])),
            },
            ...GATEWAY_RESPONSES,
            ...errorResponses('GET /sessions', captured, listErrors),
          },
        },
      },
      '/sessions/{sessionId}': {
        delete: {
          operationId: 'terminateSession',
          summary: 'Terminate one session',
          description:
            'Protected accounts are never terminated (409). An id the PAM Core does not list is a 404; nothing is ' +
            'sent to PAM for an invalid id.',
          parameters: [
            {
              name: 'sessionId',
              in: 'path',
              required: true,
              description: "PAM's `session_id` (a 40-hex hash today).",
              schema: inputs.sessionId,
            },
          ],
          responses: {
            '200': {
              description: 'Terminated, already ended, or (under DRY_RUN) would be terminated.',
              content: jsonContent(
                ref('SessionTermination'),
                pick(['delete_terminated', 'delete_already_ended', 'delete_would_terminate']),
              ),
            },
            ...GATEWAY_RESPONSES,
            ...errorResponses('DELETE /sessions/{sessionId}', captured, deleteErrors),
          },
        },
      },
      '/sessions/terminate': {
        post: {
          operationId: 'terminateSessions',
          summary: 'Terminate the sessions a termination request names or matches',
          description:
            'Every target gets an outcome, in the 200 response: a drop that failed is a `failed` outcome, not an ' +
            'error status. Guardrails: protected accounts are skipped, more than MAX_SESSIONS_PER_EVENT droppable ' +
            'sessions are all `blocked` (an analyst may then confirm them, POST /sessions/terminate/confirm), and ' +
            '`dry_run` terminates nothing.',
          requestBody: {
            required: true,
            description:
              `At most 64 KB. At least one of \`session_id\`, \`session_ids\` (at most ${MAX_SESSION_IDS}) or ` +
              '`match` (at least one field; every given field must match); `reason` must not be blank. `user` and ' +
              '`credential` compare as account names, `protocol` case-insensitively, `device` as a host with or ' +
              'without its port, `origin_ip` as an address or a CIDR block no wider than MIN_PREFIX_LENGTH_IPV4 ' +
              '(16) / MIN_PREFIX_LENGTH_IPV6 (48). Unknown top-level fields are ignored, unknown `match` fields ' +
              'refused.',
            content: {
              'application/json': {
                schema: ref('TerminationRequest'),
                examples: {
                  preview: requestExample('terminate_preview'),
                  by_id: requestExample('terminate_by_id'),
                  blocked: requestExample('terminate_blocked'),
                  contain: requestExample('terminate_contained'),
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'The report: one outcome per target.',
              content: jsonContent(
                ref('TerminationReport'),
                pick(['terminate_preview', 'terminate_by_id', 'terminate_blocked', 'terminate_contained']),
              ),
            },
            ...GATEWAY_RESPONSES,
            ...errorResponses('POST /sessions/terminate', captured, postErrors),
          },
        },
      },
      '/sessions/terminate/confirm': {
        post: {
          operationId: 'confirmBlockedRequest',
          summary: 'Confirm a request the cap blocked: terminate exactly the sessions it matched',
          description:
            "Within 15 minutes of the block, once. `trigger_id` is the blocked request's trigger id (its " +
            '`trigger.event_id`, also in the alarm topic\'s notice and the "PAM Session Termination Blocked" audit ' +
            'event). A route of its own, served by a function of its own: grant `execute-api:Invoke` on it only to ' +
            'those who may lift the cap. Sessions opened since the block are not included.',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: ref('Confirmation'),
                examples: { confirm: requestExample('confirm_terminated') },
              },
            },
          },
          responses: {
            '200': {
              description: 'The report: one outcome per session the blocked request matched.',
              content: jsonContent(ref('TerminationReport'), pick(['confirm_terminated'])),
            },
            ...GATEWAY_RESPONSES,
            ...errorResponses('POST /sessions/terminate/confirm', captured, confirmErrors),
          },
        },
      },
      '/credentials/{id}/reactivate': credentialRoute(
        'reactivate',
        'Reactivate a quarantined credential',
        '`PUT …/credential/{id}` in the PAM Core, then its scheduled reactivation (if any) is deleted: the quarantine ' +
          'ends now. Audited as "PAM Credential Reactivated" with the caller.',
        ['credential_reactivated'],
      ),
      '/credentials/{id}/quarantine': credentialRoute(
        'quarantine',
        'Quarantine a credential, or extend its quarantine',
        '`DELETE …/credential/{id}` in the PAM Core (an inactive credential is `already_quarantined`), then its ' +
          'reactivation is scheduled anew. Audited as "PAM Credential Quarantined" with the caller.',
        ['credential_quarantined'],
      ),
    },
    components: {
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description:
            "AWS Signature Version 4 for the service `execute-api` in the stack's region (API Gateway's IAM " +
            'authorizer), with `x-amz-security-token` for temporary credentials.',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
      },
      schemas: {
        TerminationRequest: inputs.terminationRequest,
        Confirmation: inputs.confirmation,
        CredentialRequest: inputs.credentialRequest,
        ...RESPONSE_SCHEMAS,
        GatewayMessage: object({ message: { type: 'string' } }),
      },
    },
  };
}

/** The document as YAML, with a header saying where it comes from. */
export function renderOpenApi(captured: CapturedExamples): string {
  // Shared objects (the gateway's responses) written out in full, not as YAML aliases.
  const document = new Document(buildOpenApiDocument(captured), { aliasDuplicateObjects: false });
  document.commentBefore =
    ' Generated by `npm run docs` (test/contract/openapi-doc.ts): the inputs from the zod schemas the handlers\n' +
    ' validate with, the examples captured from the real handlers against the PAM Core simulator (timings and\n' +
    ' timestamps pinned). Do not edit: test/contract/openapi.contract.test.ts fails when this file differs.';
  return document.toString({ lineWidth: 0 });
}
