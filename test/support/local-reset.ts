import type { LocalPam } from '../../infra/local/local-pam.js';
import { seedSessions } from '../../infra/pam-simulator/seed-sessions.js';

/** The local stack as a test starts from: the seeded PAM Core (every session as seeded), no faults, nothing recorded, no trigger handled before. */
export async function resetLocalPam(local: LocalPam): Promise<void> {
  await Promise.all([local.s3.clear(), local.dynamodb.clear()]);
  local.pam.sessions.splice(0, local.pam.sessions.length, ...seedSessions());
  local.pam.sessionsChanged();
  local.pam.requests.length = 0;
  local.pam.clearFaults();
  local.secrets.clearFailures();
  local.eventBridge.events.length = 0;
  local.securityHub.updates.length = 0;
  local.sns.notices.length = 0;
  local.pam.credentialApi.reset();
  local.scheduler.schedules.clear();
  local.scheduler.calls.length = 0;
}
