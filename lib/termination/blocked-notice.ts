import { notifyAlarmTopic } from '../aws/alarm-topic.js';
import type { Outcome } from './outcome.js';
import type { Trigger } from './termination-request.js';

/** Session ids named in the notice; the audit trail lists them all. */
const IDS_IN_NOTICE = 50;

/**
 * A request the cap blocked: an attacker who opens more sessions than the cap from one address is
 * not cut automatically, so a human is told at once, with what to do about it.
 */
export async function notifyBlocked(
  blocked: Outcome[],
  context: { reason: string; requested_by: string | null; trigger: Trigger },
): Promise<void> {
  const ids = blocked.map((outcome) => outcome.session_id);
  await notifyAlarmTopic(`PAM session termination blocked: ${ids.length} sessions over the cap`, {
    what: `${ids.length} sessions matched a termination request, more than MAX_SESSIONS_PER_EVENT: none of them was terminated`,
    reason: context.reason,
    requested_by: context.requested_by,
    trigger: context.trigger,
    session_ids: ids.slice(0, IDS_IN_NOTICE),
    ...(ids.length > IDS_IN_NOTICE ? { more: ids.length - IDS_IN_NOTICE } : {}),
    to_confirm: `within 15 minutes, POST /sessions/terminate/confirm (IAM-signed, a permission of its own) with {"trigger_id": "${context.trigger.event_id}", "reason": "…"}: exactly these sessions are terminated; the audit event "PAM Session Termination Blocked" lists every one`,
  });
}
