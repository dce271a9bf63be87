import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { errorMessage } from '../../lib/core/errors.js';
import { matchesEventPattern } from '../event-patterns/event-pattern.js';
import { loadRulePatterns } from '../event-patterns/rules.js';
import { invokeLocally } from './local-invoke.js';

/** npm run event -- <file.json>: which rules match the event, and what drop does with it. */
async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: npm run event -- <event.json>');
    process.exit(2);
  }
  // Sent as if it happened now (drop does not act on events older than MAX_EVENT_AGE_MINUTES), with an id of its
  // own as EventBridge gives each event it is handed: the same file sent twice is two events, not a redelivery.
  const event = {
    ...(JSON.parse(readFileSync(file, 'utf8')) as object),
    id: randomUUID(),
    time: new Date().toISOString(),
  };
  const matched = loadRulePatterns({ stage: 'local' }).filter((rule) => matchesEventPattern(rule.pattern, event));
  if (matched.length === 0) {
    console.log(`No rule matches ${file}: EventBridge would not invoke drop.`);
    return;
  }
  console.log(`Rules matching ${file}: ${matched.map((rule) => rule.name).join(', ')}`);
  const { result, published, findingUpdates, schedules, fired, where } = await invokeLocally('drop', event);
  console.log(`\ndrop ran in ${where} and answered:\n${JSON.stringify(result, null, 2)}`);
  console.log(`\naudit events published (${published.length}):`);
  for (const entry of published as Array<{
    'detail-type': string;
    detail: {
      session_id?: string;
      outcome: string;
      message?: string;
      count?: number;
      ignored?: string;
      credential?: { id: string | null; username: string | null };
    };
  }>) {
    if (entry.detail.ignored !== undefined) {
      console.log(`  ${entry['detail-type'].padEnd(34)} ${entry.detail.ignored}`);
      continue;
    }
    // Blocked and dry-run outcomes come as one event per request, listing the sessions.
    const credential = entry.detail.credential;
    const what =
      entry.detail.session_id ??
      (credential ? `credential ${credential.id ?? credential.username}` : `${entry.detail.count} sessions`);
    const message = entry.detail.message ? `  (${entry.detail.message})` : '';
    console.log(`  ${entry['detail-type'].padEnd(34)} ${what}  ${entry.detail.outcome}${message}`);
  }
  for (const update of findingUpdates) {
    console.log(`\nSecurity Hub BatchUpdateFindings sent:\n${JSON.stringify(update, null, 2)}`);
  }
  for (const schedule of schedules) {
    console.log(
      `\nScheduler holds ${schedule.group}/${schedule.name}: ${schedule.expression} -> ${schedule.target.Arn}`,
    );
  }
  for (const { schedule, result: reactivation } of fired ?? []) {
    console.log(`\n${schedule.name} run now (as at its time), the credentials function answered:`);
    console.log(JSON.stringify(reactivation, null, 2));
  }
}

main().catch((error: unknown) => {
  console.error(errorMessage(error));
  process.exit(1);
});
