import * as z from 'zod/mini';
import { ValidationError } from '../core/errors.js';
import {
  CONTAIN_ACTIONS,
  type ContainAction,
  type TerminationSettings,
  terminationSettings,
} from '../core/settings.js';
import { issuesMessage } from '../core/zod-issues.js';
import { blockProblem, parseBlock } from '../sessions/ip-address.js';
import { sessionIdSchema } from '../sessions/session-id.js';
import { deviceProblem, type MatchCriteria } from '../sessions/session-match.js';

/** Where a termination request came from, carried into every audit event. */
export interface Trigger {
  event_id: string;
  source: string;
  detail_type: string;
  finding_id?: string | undefined;
  finding_title?: string | undefined;
  /**
   * Each finding acted on, as findingKey gives it (its ARN and update time): the identity by which a finding's
   * version is handled once, whether GuardDuty or Security Hub's copy of it delivers it. Set for GuardDuty and
   * imported Security Hub findings only.
   */
  finding_keys?: string[] | undefined;
  /** The IAM principal that called the HTTP API, when it did. */
  caller?: string | undefined;
  /** For a confirmation: the trigger id of the blocked request it confirms. */
  confirms?: string | undefined;
}

export interface TerminationRequest {
  sessionIds: string[];
  /** Each entry ANDs its fields; a session matching any entry is a target. */
  criteria: MatchCriteria[];
  reason: string;
  requestedBy: string | undefined;
  dryRun: boolean;
  trigger: Trigger;
  /** Why nothing is to be resolved, when a finding is deliberately not acted on (below the threshold…). */
  ignored?: string | undefined;
  /** An analyst's confirmation of a blocked request (POST /sessions/terminate/confirm): the cap does not apply. */
  confirmOverCap?: boolean;
  /** When the triggering event happened or the request arrived (epoch ms): time to cut counts from it. */
  occurredAt?: number;
  /** The Security Hub findings acted on, to write the outcome back to. */
  findings?: FindingIdentifier[];
  /** What to do to the credentials of the sessions terminated, in this order (lib/containment). */
  contain?: ContainAction[];
}

export interface FindingIdentifier {
  id: string;
  productArn: string;
}

/** What kind of trigger a request came from: the time-to-cut metric's trigger dimension. */
export const TRIGGER_KINDS = ['guardduty', 'securityhub', 'request', 'http', 'invoke'] as const;

export type TriggerKind = (typeof TRIGGER_KINDS)[number];

export function triggerKind(trigger: Trigger): TriggerKind {
  if (trigger.source === 'aws.guardduty') return 'guardduty';
  if (trigger.source === 'aws.securityhub') return 'securityhub';
  if (trigger.source === 'api') return 'http';
  if (trigger.source === 'lambda.invoke') return 'invoke';
  return 'request';
}

/** More ids than this in one request is refused: it is a mistake or an attack, not an incident. */
export const MAX_SESSION_IDS = 100;

/** A required text field: at most `max` characters as sent, not blank once trimmed. */
export const text = (field: string, max: number) =>
  z
    .string({ error: `${field} must be a string` })
    // The length as sent, before trimming: what docs/openapi.yaml's maxLength says.
    .check(
      z.maxLength(max, `${field} must be at most ${max} characters`),
      z.trim(),
      z.minLength(1, `${field} must not be empty`),
    );

/** A check from a function that says what is wrong with a value (after the field's name), or nothing. */
const no = (field: string, problem: (value: string) => string | undefined) =>
  z.superRefine<string>((value, context) => {
    const why = problem(value);
    if (why !== undefined) context.addIssue({ code: 'custom', message: `${field} ${why}`, input: value });
  });

const matchSchema = z
  .strictObject(
    {
      user: z.optional(text('match.user', 256)),
      origin_ip: z.optional(text('match.origin_ip', 64).check(no('match.origin_ip', blockProblem))),
      device: z.optional(text('match.device', 256).check(no('match.device', deviceProblem))),
      credential: z.optional(text('match.credential', 256)),
      protocol: z.optional(text('match.protocol', 32)),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `match accepts only user, origin_ip, device, credential and protocol (not ${issue.keys.join(', ')})`
          : 'match must be an object',
    },
  )
  .check(
    z.refine(
      (match) => Object.values(match).some((value) => value !== undefined),
      'match needs at least one of user, origin_ip, device, credential, protocol',
    ),
  );

const CONTAIN_ERROR = 'contain must be "rotate", "deactivate" or both in an array';
const containAction = z.enum(CONTAIN_ACTIONS, { error: CONTAIN_ERROR });

/** `"rotate"`, `"deactivate"` or both: rotation always goes first (an inactive credential refuses custody). */
export const containSchema = z.pipe(
  z.union(
    [
      containAction,
      z.array(containAction).check(z.minLength(1, 'contain must not be empty'), z.maxLength(CONTAIN_ACTIONS.length)),
    ],
    { error: CONTAIN_ERROR },
  ),
  z.transform((value): ContainAction[] => {
    const asked = new Set(typeof value === 'string' ? [value] : value);
    return CONTAIN_ACTIONS.filter((action) => asked.has(action));
  }),
);

export const terminationDetailSchema = z
  .object(
    {
      session_id: z.optional(sessionIdSchema),
      session_ids: z.optional(
        z
          .array(sessionIdSchema, { error: 'session_ids must be an array of session ids' })
          .check(
            z.minLength(1, 'session_ids must not be empty'),
            z.maxLength(MAX_SESSION_IDS, `session_ids may hold at most ${MAX_SESSION_IDS} ids`),
          ),
      ),
      match: z.optional(matchSchema),
      reason: text('reason', 1024),
      requested_by: z.optional(text('requested_by', 256)),
      dry_run: z.optional(z.boolean({ error: 'dry_run must be true or false' })),
      contain: z.optional(containSchema),
    },
    { error: 'the request must be a JSON object' },
  )
  .check(
    z.refine(
      (detail) => detail.session_id !== undefined || detail.session_ids !== undefined || detail.match !== undefined,
      'give at least one of session_id, session_ids or match',
    ),
  );

export type PrefixLimits = Pick<TerminationSettings, 'minPrefixLengthIpv4' | 'minPrefixLengthIpv6'>;

/** Why an origin_ip block is wider than the deployment lets a request name, or nothing. */
function tooWide(originIp: string, limits: PrefixLimits): string | undefined {
  const block = parseBlock(originIp);
  if (block === undefined) return undefined;
  const ipv4 = block.address.kind() === 'ipv4';
  const least = ipv4 ? limits.minPrefixLengthIpv4 : limits.minPrefixLengthIpv6;
  if (block.prefix >= least) return undefined;
  const family = ipv4 ? 'IPv4' : 'IPv6';
  return (
    `match.origin_ip ${block.address.toString()}/${block.prefix} is wider than /${least}, the widest ${family} block ` +
    `a request may name: name a narrower block, or lower MIN_PREFIX_LENGTH_${family.toUpperCase()} (${least}) for the deployment`
  );
}

/**
 * Validates a termination request's detail (from a SIEM on EventBridge, or POST /sessions/terminate).
 * Throws a ValidationError listing every problem; nothing is resolved or sent on its behalf.
 */
export function parseTerminationDetail(
  detail: unknown,
  trigger: Trigger,
  limits: PrefixLimits = terminationSettings(),
): TerminationRequest {
  const parsed = terminationDetailSchema.safeParse(detail);
  if (!parsed.success) throw new ValidationError(issuesMessage(parsed.error));
  const { session_id, session_ids, match, reason, requested_by, dry_run, contain } = parsed.data;
  const wide = match?.origin_ip === undefined ? undefined : tooWide(match.origin_ip, limits);
  if (wide !== undefined) throw new ValidationError(wide);
  return {
    sessionIds: [...new Set([...(session_id ? [session_id] : []), ...(session_ids ?? [])])],
    criteria: match ? [match] : [],
    reason,
    requestedBy: requested_by,
    dryRun: dry_run ?? false,
    ...(contain ? { contain } : {}),
    trigger,
  };
}
