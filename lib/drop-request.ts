import { ValidationError } from './errors.js';
import { isHttpApiEvent } from './http-api.js';
import { parseSessionId } from './session-id.js';

export interface DropRequest {
  source: 'http' | 'direct';
  sessionId: string;
}

/** Accepts `DELETE /sessions/{sessionId}` from the HTTP API, or `{"session_id": "…"}` invoked directly. */
export function parseDropRequest(event: unknown): DropRequest {
  if (isHttpApiEvent(event)) {
    const pathParameters = (event as { pathParameters?: Record<string, unknown> }).pathParameters;
    return { source: 'http', sessionId: parseSessionId(pathParameters?.sessionId) };
  }
  if (typeof event === 'object' && event !== null && !Array.isArray(event) && 'session_id' in event) {
    return { source: 'direct', sessionId: parseSessionId(event.session_id) };
  }
  throw new ValidationError('Expected {"session_id": "<id>"} or an API Gateway request to DELETE /sessions/{sessionId}');
}
