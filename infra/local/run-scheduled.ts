import { invokeLocally } from './local-invoke.js';

/**
 * npm run export / npm run index: triggers a scheduled function by hand, as its schedule would,
 * and prints what it answered.
 */
const name = process.argv[2];
if (name !== 'export' && name !== 'index-sessions') {
  console.error('usage: tsx infra/local/run-scheduled.ts export|index-sessions');
  process.exit(2);
}

// What the schedule delivers; neither function reads anything from it.
const scheduledEvent = {
  version: '0',
  id: `local-${name}`,
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '000000000000',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: [`arn:aws:events:us-east-1:000000000000:rule/pam-session-responder-local-${name}-schedule`],
  detail: {},
};

const { result, where } = await invokeLocally(name, scheduledEvent);
console.log(`${name} ran in ${where} and answered:\n${JSON.stringify(result, null, 2)}`);
if (typeof result === 'object' && result !== null && 'errorType' in result) process.exit(1);
