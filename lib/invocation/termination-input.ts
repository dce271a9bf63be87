import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { ValidationError } from '../core/errors.js';
import type { TerminationSettings } from '../core/settings.js';
import { issuesMessage } from '../core/zod-issues.js';
import { parseSessionId } from '../sessions/session-id.js';
import {
  type FindingScope,
  type FindingTargets,
  guardDutyTargets,
  securityHubTargets,
} from '../termination/finding-targets.js';
import {
  containSchema,
  parseTerminationDetail,
  type TerminationRequest,
  type Trigger,
} from '../termination/termination-request.js';
import { type HttpEvent, isHttpApiEvent, jsonBody } from './http-response.js';

const TERMINATION_REQUESTED = 'PAM Session Termination Requested';

/** A direct invocation: one session, and optionally the caller's key that makes a retry of it the same request. */
const directInvocationSchema = z.strictObject(
  {
    session_id: z.unknown(),
    // Validated as a termination request's (directContain).
    contain: z.optional(z.unknown()),
    idempotency_key: z.optional(
      z
        .string({ error: 'idempotency_key must be a string' })
        .check(z.regex(/^[A-Za-z0-9._:@/-]{1,128}$/, 'idempotency_key must be 1 to 128 letters, digits or ._:@/-')),
    ),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `a direct invocation accepts only session_id, contain and idempotency_key (not ${issue.keys.join(', ')})`
        : 'a direct invocation must be a JSON object',
  },
);
/** A termination request body larger than this is refused before it is parsed. */
const MAX_BODY_BYTES = 64 * 1024;

export type TerminationInput =
  /** DELETE /sessions/{sessionId} or a direct {"session_id"}: responded to as one session. */
  (
    | { kind: 'single'; source: 'http' | 'direct'; request: TerminationRequest }
    /** POST /sessions/terminate or an EventBridge event: responded to with every outcome. */
    | { kind: 'batch'; source: 'http' | 'event'; request: TerminationRequest }
  ) & {
    /** What makes a repeat of this trigger the same trigger (lib/invocation/once-per-trigger.ts); none for HTTP. */
    idempotencyKey?: string;
  };

interface EventBridgeEvent {
  id: string;
  source: string;
  'detail-type': string;
  time?: string;
  detail: unknown;
}

/** When the event happened, as EventBridge stamps it; now, when it does not say or says nonsense. */
function occurredAt(time: unknown): number {
  const at = typeof time === 'string' ? Date.parse(time) : typeof time === 'number' ? time : Number.NaN;
  return Number.isFinite(at) && at <= Date.now() ? at : Date.now();
}

/**
 * What makes a repeat the same trigger: a finding's identity and version (the GuardDuty finding and its Security Hub
 * copy share it), else EventBridge's event id, the same on every delivery of one event.
 */
function triggerKey(request: TerminationRequest, eventId: string): string {
  const findings = request.trigger.finding_keys;
  return findings && findings.length > 0 ? `finding#${findings.join(' ')}` : `event#${eventId}`;
}

/** The request, stamped with when its trigger happened. */
function stamped(input: TerminationInput, time: unknown, idempotencyKey?: string): TerminationInput {
  return {
    ...input,
    request: { ...input.request, occurredAt: occurredAt(time) },
    ...(idempotencyKey ? { idempotencyKey } : {}),
  } as TerminationInput;
}

/**
 * Why an event is too old to act on, or nothing. Late deliveries (EventBridge's retries, a replayed
 * archive, a redriven queue) name sessions that may be someone else's by now.
 */
function tooOld(occurred: number, maxAgeMs: number, now = Date.now()): string | undefined {
  const ageMs = now - occurred;
  if (ageMs <= maxAgeMs) return undefined;
  const minutes = (ms: number) => Math.floor(ms / 60_000);
  return `the event is ${minutes(ageMs)} minutes old, older than MAX_EVENT_AGE_MINUTES (${minutes(maxAgeMs)}): not acted on`;
}

/** An EventBridge event stamped with its time, and ignored when that is older than the deployment allows. */
function stampedEvent(
  input: TerminationInput,
  time: unknown,
  settings: TerminationSettings,
  idempotencyKey: string,
): TerminationInput {
  const at = occurredAt(time);
  const old = input.request.ignored ? undefined : tooOld(at, settings.maxEventAgeMs);
  const request = { ...input.request, occurredAt: at, ...(old ? { ignored: old } : {}) };
  return { ...input, request, idempotencyKey } as TerminationInput;
}

function isEventBridgeEvent(event: unknown): event is EventBridgeEvent {
  const candidate = event as Partial<EventBridgeEvent> | null;
  return (
    typeof candidate?.['detail-type'] === 'string' &&
    typeof candidate.source === 'string' &&
    'detail' in (candidate as object)
  );
}

function single(
  sessionId: unknown,
  reason: string,
  trigger: Trigger,
  requestedBy: string | undefined,
  source: 'http' | 'direct',
): TerminationInput {
  return {
    kind: 'single',
    source,
    request: { sessionIds: [parseSessionId(sessionId)], criteria: [], reason, requestedBy, dryRun: false, trigger },
  };
}

export const parseJsonBody = (event: HttpEvent): unknown =>
  jsonBody(event, { maxBytes: MAX_BODY_BYTES, expected: 'the termination request as JSON' });

function fromHttp(event: HttpEvent, context: Context, settings: TerminationSettings): TerminationInput {
  const caller = event.requestContext.authorizer?.iam?.userArn;
  const trigger: Trigger = {
    event_id: event.requestContext.requestId ?? context.awsRequestId,
    source: 'api',
    detail_type: event.routeKey ?? event.requestContext.http.method,
    ...(caller ? { caller } : {}),
  };
  if (event.requestContext.http.method === 'DELETE') {
    return single(
      event.pathParameters?.sessionId,
      'Requested through DELETE /sessions/{sessionId}',
      trigger,
      caller,
      'http',
    );
  }
  const request = parseTerminationDetail(parseJsonBody(event), trigger, settings);
  return { kind: 'batch', source: 'http', request: { ...request, requestedBy: request.requestedBy ?? caller } };
}

function fromFinding(
  event: EventBridgeEvent,
  targets: FindingTargets,
  contain: TerminationSettings['containOnFindings'],
): TerminationInput {
  return {
    kind: 'batch',
    source: 'event',
    request: {
      sessionIds: [],
      criteria: targets.criteria,
      reason: targets.reason,
      requestedBy: event.source,
      dryRun: false,
      trigger: {
        event_id: event.id,
        source: event.source,
        detail_type: event['detail-type'],
        finding_id: targets.findingId,
        finding_title: targets.findingTitle,
        ...(targets.findingKeys ? { finding_keys: targets.findingKeys } : {}),
      },
      ...(targets.ignored ? { ignored: targets.ignored } : {}),
      ...(targets.findings ? { findings: targets.findings } : {}),
      ...(contain.length > 0 ? { contain } : {}),
    },
  };
}

/** The account a function runs in, from its ARN (arn:aws:lambda:<region>:<account>:function:<name>). */
function accountOf(invokedFunctionArn: string | undefined): string | undefined {
  const account = invokedFunctionArn?.split(':')[4];
  return account !== undefined && /^\d{12}$/.test(account) ? account : undefined;
}

/** Where findings act: FINDING_ACCOUNTS, else the deployment's own account; DEVICE_VPCS when set. */
function findingScope(settings: TerminationSettings, context: Context): FindingScope {
  const own = accountOf(context.invokedFunctionArn);
  const accounts = settings.findingAccounts.size > 0 ? settings.findingAccounts : new Set(own ? [own] : []);
  return { accounts, deviceVpcs: settings.deviceVpcs };
}

/** A direct invocation's optional `contain`, validated as a request's. */
function directContain(event: object): Pick<TerminationRequest, 'contain'> {
  if (!('contain' in event) || event.contain === undefined) return {};
  const parsed = containSchema.safeParse(event.contain);
  if (!parsed.success) throw new ValidationError(issuesMessage(parsed.error));
  return { contain: parsed.data };
}

function fromEventBridge(event: EventBridgeEvent, context: Context, settings: TerminationSettings): TerminationInput {
  const detailType = event['detail-type'];
  const trigger: Trigger = { event_id: event.id, source: event.source, detail_type: detailType };
  if (detailType === TERMINATION_REQUESTED) {
    return { kind: 'batch', source: 'event', request: parseTerminationDetail(event.detail, trigger, settings) };
  }
  if (event.source === 'aws.guardduty' && detailType === 'GuardDuty Finding') {
    return fromFinding(
      event,
      guardDutyTargets(event.detail, {
        minSeverity: settings.guardDutyMinSeverity,
        scope: findingScope(settings, context),
      }),
      settings.containOnFindings,
    );
  }
  if (event.source === 'aws.securityhub' && detailType === 'Security Hub Findings - Imported') {
    return fromFinding(
      event,
      securityHubTargets(event.detail, findingScope(settings, context), {
        labels: settings.securityHubLabels,
        products: settings.securityHubProducts,
      }),
      settings.containOnFindings,
    );
  }
  if (event.source === 'aws.securityhub' && detailType === 'Security Hub Findings - Custom Action') {
    return fromFinding(
      event,
      securityHubTargets(event.detail, findingScope(settings, context), undefined),
      settings.containOnFindings,
    );
  }
  throw new ValidationError(`events of detail-type "${detailType}" from "${event.source}" are not handled`);
}

/** For drop's errorResponder: a termination request refused as invalid counts as `rejected`, never as `failed`. */
export async function countRejectedRequest(): Promise<void> {
  const metrics = await import('../termination/outcome-metrics.js');
  metrics.countRejectedRequest();
}

/**
 * Tells apart what the drop function receives: the HTTP API (DELETE one session, POST a
 * termination request), an EventBridge event (a SIEM's request, a GuardDuty or Security Hub
 * finding), or a direct invocation {"session_id": "…"}.
 */
export function parseTerminationInput(
  event: unknown,
  context: Context,
  settings: TerminationSettings,
): TerminationInput {
  if (isHttpApiEvent(event))
    return stamped(fromHttp(event as HttpEvent, context, settings), (event as HttpEvent).requestContext.timeEpoch);
  if (isEventBridgeEvent(event)) {
    const input = fromEventBridge(event, context, settings);
    return stampedEvent(input, event.time, settings, triggerKey(input.request, event.id));
  }
  if (typeof event === 'object' && event !== null && !Array.isArray(event) && 'session_id' in event) {
    const invocation = directInvocationSchema.safeParse(event);
    if (!invocation.success) throw new ValidationError(issuesMessage(invocation.error));
    const key = invocation.data.idempotency_key;
    const trigger: Trigger = {
      event_id: key ?? context.awsRequestId,
      source: 'lambda.invoke',
      detail_type: 'Direct invocation',
    };
    const input = single(invocation.data.session_id, 'Requested by direct invocation', trigger, undefined, 'direct');
    const contained = { ...input, request: { ...input.request, ...directContain(event) } };
    return stamped(contained, undefined, key === undefined ? undefined : `invoke#${key}`);
  }
  throw new ValidationError(
    'Expected {"session_id": "<id>"}, an EventBridge event, or an API Gateway request (DELETE /sessions/{sessionId}, POST /sessions/terminate)',
  );
}
