import { type LocalPam, startLocalPam } from '../../infra/local/local-pam.js';
import { type Handler, loadHandler } from './handlers.js';

export type { Handler };

export interface LocalHandlers {
  local: LocalPam;
  list: Handler;
  drop: Handler;
  indexSessions: Handler;
}

/**
 * The local stack, its variables in process.env (plus `env`), then the real list, drop and
 * index-sessions handlers, imported only now so the SDK's first look at AWS_ENDPOINT_URL_* finds the stand-ins.
 */
export async function startLocalHandlers(
  options: Parameters<typeof startLocalPam>[0] = {},
  env: Record<string, string> = {},
  prepare?: (local: LocalPam) => void,
): Promise<LocalHandlers> {
  const local = await startLocalPam(options);
  prepare?.(local);
  Object.assign(process.env, local.env, env);
  return {
    local,
    list: await loadHandler('list'),
    drop: await loadHandler('drop'),
    indexSessions: await loadHandler('index-sessions'),
  };
}
