import { type LocalPam, startLocalPam } from '../../infra/local/local-pam.js';

export type Handler = (event: unknown, context: unknown) => Promise<any>;

export interface LocalHandlers {
  local: LocalPam;
  list: Handler;
  drop: Handler;
}

/**
 * The local stack, its variables in process.env (plus `env`), then the real list and drop
 * handlers, imported only now so the SDK's first look at AWS_ENDPOINT_URL_* finds the stand-ins.
 */
export async function startLocalHandlers(
  options: Parameters<typeof startLocalPam>[0] = {},
  env: Record<string, string> = {},
  prepare?: (local: LocalPam) => void,
): Promise<LocalHandlers> {
  const local = await startLocalPam(options);
  prepare?.(local);
  Object.assign(process.env, local.env, env);
  const { handler: list } = (await import('../../functions/list.js')) as unknown as { handler: Handler };
  const { handler: drop } = (await import('../../functions/drop.js')) as unknown as { handler: Handler };
  return { local, list, drop };
}
