import type { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { AWS_REQUEST_LIMITS } from './request-limits.js';

type EventBridge = { client: EventBridgeClient; PutEventsCommand: typeof PutEventsCommand };
let eventBridge: Promise<EventBridge> | undefined;

/**
 * One EventBridge client per container, loaded on first use: the audit trail is published after
 * the DELETE, so a cold start loads it off the critical path. Region and endpoint come from the
 * SDK's standard configuration.
 */
export function eventBridgeClient(): Promise<EventBridge> {
  eventBridge ??= import('@aws-sdk/client-eventbridge').then((module) => ({
    client: new module.EventBridgeClient({ requestHandler: AWS_REQUEST_LIMITS }),
    PutEventsCommand: module.PutEventsCommand,
  }));
  return eventBridge;
}
