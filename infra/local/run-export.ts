import { invokeLocally } from './local-invoke.js';

// What the schedule delivers; the export reads nothing from it.
const scheduledEvent = {
  version: '0',
  id: 'local-export',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '000000000000',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:000000000000:rule/pam-session-responder-local-export-schedule'],
  detail: {},
};

/** npm run export: triggers the scheduled inventory export by hand and prints its summary. */
async function main(): Promise<void> {
  const { result, where } = await invokeLocally('export', scheduledEvent);
  console.log(`export ran in ${where} and answered:\n${JSON.stringify(result, null, 2)}`);
  if (typeof result === 'object' && result !== null && 'errorType' in result) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
