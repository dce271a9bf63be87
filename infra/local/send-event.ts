import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { matchesEventPattern } from '../../lib/event-pattern.js';
import { loadRulePatterns } from '../event-patterns/rules.js';
import { startLocalPam } from './local-pam.js';

const LAMBDA_PORT = Number(process.env.LAMBDA_PORT ?? 3002);
const EVENTBRIDGE_PORT = Number(process.env.EVENTBRIDGE_PORT ?? 4011);
const DROP_FUNCTION = 'pam-session-responder-local-drop';

interface Invocation {
  result: unknown;
  audit: unknown[];
  where: string;
}

async function reachable(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
}

/** Invokes drop inside the running `npm start` stack, whose simulator keeps its state between events. */
async function invokeRunningStack(event: unknown): Promise<Invocation> {
  const eventBridge = `http://127.0.0.1:${EVENTBRIDGE_PORT}`;
  const seen = ((await (await fetch(`${eventBridge}/events`)).json()) as unknown[]).length;
  const response = await fetch(`http://localhost:${LAMBDA_PORT}/2015-03-31/functions/${DROP_FUNCTION}/invocations`, {
    method: 'POST',
    body: JSON.stringify(event),
  });
  const result = (await response.json()) as unknown;
  const audit = ((await (await fetch(`${eventBridge}/events`)).json()) as unknown[]).slice(seen);
  return { result, audit, where: 'the running npm start stack' };
}

/** Without `npm start`, runs the built drop bundle here against a fresh simulator (no state is kept). */
async function invokeInProcess(event: unknown): Promise<Invocation> {
  const local = await startLocalPam();
  Object.assign(process.env, local.env, { PROTECTED_USERS: process.env.PROTECTED_USERS ?? 'break_glass', POWERTOOLS_LOG_LEVEL: 'WARN' });
  try {
    const bundle = pathToFileURL(new URL('../../dist/drop/index.mjs', import.meta.url).pathname).href;
    const { handler } = (await import(bundle)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
    const context = { awsRequestId: 'local', functionName: DROP_FUNCTION, getRemainingTimeInMillis: () => 60_000 };
    const result = await handler(event, context).catch((error: Error) => ({ errorType: error.name, errorMessage: error.message }));
    return { result, audit: local.eventBridge.events, where: 'a fresh simulator in this process (start `npm start` to keep state between events)' };
  } finally {
    await local.close();
  }
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: npm run event -- <event.json>');
    process.exit(2);
  }
  const event = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  const matched = loadRulePatterns({ stage: 'local' }).filter((rule) => matchesEventPattern(rule.pattern, event));
  if (matched.length === 0) {
    console.log(`No rule matches ${file}: EventBridge would not invoke drop.`);
    return;
  }
  console.log(`Rules matching ${file}: ${matched.map((rule) => rule.name).join(', ')}`);
  const stackUp = (await reachable(`http://localhost:${LAMBDA_PORT}`)) && (await reachable(`http://127.0.0.1:${EVENTBRIDGE_PORT}/events`));
  const { result, audit, where } = stackUp ? await invokeRunningStack(event) : await invokeInProcess(event);
  console.log(`\ndrop ran in ${where} and answered:\n${JSON.stringify(result, null, 2)}`);
  console.log(`\naudit events published (${audit.length}):`);
  for (const entry of audit as Array<{ 'detail-type': string; detail: { session_id: string; outcome: string; message?: string } }>) {
    console.log(`  ${entry['detail-type'].padEnd(34)} ${entry.detail.session_id}  ${entry.detail.outcome}${entry.detail.message ? `  (${entry.detail.message})` : ''}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
