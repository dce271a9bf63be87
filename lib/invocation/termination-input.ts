import type { Context } from 'aws-lambda';
import { ValidationError } from '../core/errors.js';
import type { TerminationSettings } from '../core/settings.js';
import { parseSessionId } from '../sessions/session-id.js';
import { type FindingTargets, guardDutyTargets, securityHubTargets } from '../termination/finding-targets.js';
import { parseTerminationDetail, type TerminationRequest, type Trigger } from '../termination/termination-request.js';
import { isHttpApiEvent } from './http-response.js';

const TERMINATION_REQUESTED = 'PAM Session Termination Requested';
/** A termination request body larger than this is refused before it is parsed. */
const MAX_BODY_BYTES = 64 * 1024;

export type TerminationInput =
  /** DELETE /sessions/{sessionId} or a direct {"session_id"}: answered as one session. */
  | { kind: 'single'; source: 'http' | 'direct'; request: TerminationRequest }
  /** POST /sessions/terminate or an EventBridge event: answered with every outcome. */
  | { kind: 'batch'; source: 'http' | 'event'; request: TerminationRequest };

interface HttpEvent {
  routeKey?: string;
  body?: string | null;
  isBase64Encoded?: boolean;
  pathParameters?: Record<string, unknown>;
  requestContext: {
    requestId?: string;
    timeEpoch?: number;
    http: { method: string };
    authorizer?: { iam?: { userArn?: string } };
  };
}

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

/** The request, stamped with when its trigger happened. */
function stamped(input: TerminationInput, time: unknown): TerminationInput {
  return { ...input, request: { ...input.request, occurredAt: occurredAt(time) } } as TerminationInput;
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

function parseJsonBody(event: HttpEvent): unknown {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES)
    throw new ValidationError(`the request body is larger than ${MAX_BODY_BYTES} bytes`);
  if (text.trim() === '') throw new ValidationError('the request body is empty; send the termination request as JSON');
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('the request body is not valid JSON');
  }
}

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
  if (request.confirmOverCap && !caller) {
    throw new ValidationError(
      'confirm_over_cap needs a request signed by an IAM principal, who is recorded as confirming',
    );
  }
  return { kind: 'batch', source: 'http', request: { ...request, requestedBy: request.requestedBy ?? caller } };
}

function fromFinding(event: EventBridgeEvent, targets: FindingTargets): TerminationInput {
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
      },
      ...(targets.ignored ? { ignored: targets.ignored } : {}),
      ...(targets.findings ? { findings: targets.findings } : {}),
    },
  };
}

function fromEventBridge(event: EventBridgeEvent, settings: TerminationSettings): TerminationInput {
  const detailType = event['detail-type'];
  const trigger: Trigger = { event_id: event.id, source: event.source, detail_type: detailType };
  if (detailType === TERMINATION_REQUESTED) {
    const request = parseTerminationDetail(event.detail, trigger, settings);
    if (request.confirmOverCap) {
      throw new ValidationError(
        'confirm_over_cap is accepted only from POST /sessions/terminate, signed by an IAM principal: an event can never confirm',
      );
    }
    return { kind: 'batch', source: 'event', request };
  }
  if (event.source === 'aws.guardduty' && detailType === 'GuardDuty Finding') {
    return fromFinding(
      event,
      guardDutyTargets(event.detail, {
        minSeverity: settings.guardDutyMinSeverity,
        accounts: settings.guardDutyAccounts,
      }),
    );
  }
  if (event.source === 'aws.securityhub' && detailType === 'Security Hub Findings - Imported') {
    return fromFinding(
      event,
      securityHubTargets(event.detail, { labels: settings.securityHubLabels, products: settings.securityHubProducts }),
    );
  }
  if (event.source === 'aws.securityhub' && detailType === 'Security Hub Findings - Custom Action') {
    return fromFinding(event, securityHubTargets(event.detail, undefined));
  }
  throw new ValidationError(`events of detail-type "${detailType}" from "${event.source}" are not handled`);
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
  if (isEventBridgeEvent(event)) return stamped(fromEventBridge(event, settings), event.time);
  if (typeof event === 'object' && event !== null && !Array.isArray(event) && 'session_id' in event) {
    // Anything else is refused, not ignored: {"session_id", "dry_run": true} must not terminate the session.
    const others = Object.keys(event).filter((key) => key !== 'session_id');
    if (others.length > 0)
      throw new ValidationError(
        `a direct invocation takes only {"session_id": "<id>"}; not ${others.map((key) => `"${key}"`).join(', ')} (for a dry run or a match, POST /sessions/terminate or an EventBridge request)`,
      );
    const trigger: Trigger = {
      event_id: context.awsRequestId,
      source: 'lambda.invoke',
      detail_type: 'Direct invocation',
    };
    return stamped(single(event.session_id, 'Requested by direct invocation', trigger, undefined, 'direct'), undefined);
  }
  throw new ValidationError(
    'Expected {"session_id": "<id>"}, an EventBridge event, or an API Gateway request (DELETE /sessions/{sessionId}, POST /sessions/terminate)',
  );
}
