import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { AWS_REQUEST_LIMITS } from './request-limits.js';

/** One EventBridge client per container; region and endpoint come from the SDK's standard configuration. */
export const eventBridge = new EventBridgeClient({ requestHandler: AWS_REQUEST_LIMITS });
