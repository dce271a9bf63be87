import type { PutEventsRequestEntry, PutEventsResponse } from '@aws-sdk/client-eventbridge';
import { eventBridgeClient } from './eventbridge-client.js';

/** One call: the response waits for the audit, and the audit tries 4 times. */
const CALL_TIMEOUT_MS = 5_000;

/** One PutEvents call through the EventBridge client, within its time limit. */
export async function putEvents(entries: PutEventsRequestEntry[]): Promise<PutEventsResponse> {
  const { client, PutEventsCommand } = await eventBridgeClient();
  return client.send(new PutEventsCommand({ Entries: entries }), { abortSignal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
}
