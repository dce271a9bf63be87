import { secretsExtensionSettings } from '../core/settings.js';
import { requestText, type TextResponse } from './text-request.js';

/**
 * Reads a secret from the AWS Parameters and Secrets Lambda Extension (its layer runs beside the
 * function and caches the secret), over Node's HTTP client: a cold start then neither imports nor
 * first-calls the Secrets Manager client before the DELETE (npm run bench -- critical). Its
 * protocol: GET http://localhost:<port>/secretsmanager/get?secretId=<id> (asked of 127.0.0.1: no
 * name lookup, never ::1) with the function's session token in X-Aws-Parameters-Secrets-Token; the
 * answer is GetSecretValue's JSON. A connection per read (about one per cold start): a kept one
 * could have been closed by the extension while the function was frozen.
 */
/** The whole answer, from its cache or after its own call to Secrets Manager; past it, the SDK reads. */
const TIMEOUT_MS = 1_000;

export type ExtensionRead =
  | { found: true; secretString: string | undefined }
  /** No extension, or it could not answer: the caller reads with the SDK, which names what is wrong. */
  | { found: false; reason: string };

/** Undefined when the function has no extension (PARAMETERS_SECRETS_EXTENSION_HTTP_PORT is not set). */
export async function readSecretFromExtension(secretId: string): Promise<ExtensionRead | undefined> {
  const extension = secretsExtensionSettings();
  if (!extension) return undefined;
  const url = new URL(`http://127.0.0.1:${extension.port}/secretsmanager/get`);
  url.searchParams.set('secretId', secretId);
  let answer: TextResponse;
  try {
    answer = await requestText(url, {
      method: 'GET',
      headers: { 'x-aws-parameters-secrets-token': extension.token },
      agent: false,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const { code, name } = error as NodeJS.ErrnoException;
    return { found: false, reason: `the extension could not be reached (${code ?? name})` };
  }
  if (answer.status !== 200) return { found: false, reason: `the extension answered HTTP ${answer.status}` };
  try {
    const value = JSON.parse(answer.body) as { SecretString?: unknown };
    return { found: true, secretString: typeof value.SecretString === 'string' ? value.SecretString : undefined };
  } catch {
    return { found: false, reason: 'the extension answered with something other than JSON' };
  }
}
