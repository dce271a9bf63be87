import { request } from 'node:http';
import { secretsExtensionSettings } from '../core/settings.js';

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
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: extension.port,
        path: `/secretsmanager/get?secretId=${encodeURIComponent(secretId)}`,
        headers: { 'x-aws-parameters-secrets-token': extension.token },
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', () => resolve({ found: false, reason: 'the answer broke off' }));
        response.on('end', () => {
          if (response.statusCode !== 200) {
            resolve({ found: false, reason: `the extension answered HTTP ${response.statusCode}` });
            return;
          }
          try {
            const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretString?: unknown };
            const secretString = typeof value.SecretString === 'string' ? value.SecretString : undefined;
            resolve({ found: true, secretString });
          } catch {
            resolve({ found: false, reason: 'the extension answered with something other than JSON' });
          }
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS).unref();
    req.once('close', () => clearTimeout(timer));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ found: false, reason: `the extension could not be reached (${error.code ?? error.message})` }),
    );
    req.end();
  });
}
