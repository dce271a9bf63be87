import type { AuditEvent } from '../../lib/aws/audit-trail.js';

/** What a report hands to the audit trail and the alarm topic, as they would receive it (tests mock both with these). */
export const sent = { audit: [] as AuditEvent[][], notices: [] as Array<[string, any]> };

export const auditTrail = {
  publishAuditEvents: async (events: AuditEvent[]) => {
    sent.audit.push(events);
    return { published: events.length, failed: 0 };
  },
};

export const alarmTopic = {
  notifyAlarmTopic: async (subject: string, message: unknown) => {
    sent.notices.push([subject, message]);
    return true;
  },
};

export function forgetSent(): void {
  sent.audit.length = 0;
  sent.notices.length = 0;
}
