import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod/mini';
import { awsErrorName, awsFailureKind } from '../aws/aws-errors.js';
import { ConfigurationError } from '../core/errors.js';
import { pamSettings } from '../core/settings.js';
import { issuesMessage } from '../core/zod-issues.js';
import type { OAuth1Credentials } from './oauth1.js';
import { SecretsUnavailableError } from './pam-errors.js';

const DEFAULT_LIST_PATH = '/api/session/remotesessions';
const DEFAULT_DROP_PATH = '/iso/session/drop/{session_id}';
const DEFAULT_LOOKUP_PATH = '/api/session/remotesessions/{id}';
/** The credential API's root; older versions serve it under /iso/pam/credential. */
const DEFAULT_CREDENTIAL_PATH = '/api/pam/credential';

/** Powertools' provider over the Secrets Manager client, loaded on first use (once per container). */
let provider: Promise<SecretsProvider> | undefined;
let loaded: SecretsProvider | undefined;
function secrets(): Promise<SecretsProvider> {
  provider ??= Promise.all([
    import('@aws-lambda-powertools/parameters/secrets'),
    import('../aws/secrets-manager-client.js'),
  ]).then(
    ([{ SecretsProvider }, { secretsManager }]) => {
      loaded = new SecretsProvider({ awsSdkV3Client: secretsManager });
      return loaded;
    },
    (error: unknown) => {
      // Tried again on the next read rather than failing every read of this container.
      provider = undefined;
      throw error;
    },
  );
  return provider;
}

/** Drops the cached secret, so the next read goes to Secrets Manager (tests, or after a known rotation). */
export function forgetCachedSecret(): void {
  parsed = undefined;
  loaded?.clearCache();
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const required = z
  .string({ error: (issue) => (issue.input === undefined ? 'is missing' : 'must be a string') })
  .check(z.minLength(1, 'must not be empty'));

const apiPath = z
  .string({ error: 'must be a string' })
  .check(z.regex(/^\/[A-Za-z0-9_\-./{}]*$/, 'must be a path starting with "/"'));

function isAllowedBaseUrl(value: string): boolean {
  try {
    const url = new URL(value);
    // Plain HTTP is only acceptable when the PAM Core is on this very host.
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
  } catch {
    return false;
  }
}

const pamSecretSchema = z.object(
  {
    base_url: required.check(
      z.refine(isAllowedBaseUrl, 'must be an https:// URL (http:// is accepted only for localhost)'),
    ),
    consumer_key: z.optional(required),
    consumer_secret: z.optional(required),
    token_key: z.optional(required),
    token_secret: z.optional(required),
    client_id: z.optional(required),
    client_secret: z.optional(required),
    ca_certificate: z.optional(
      z
        .string({ error: 'must be a string' })
        .check(z.refine((pem) => pem.includes('-----BEGIN CERTIFICATE-----'), 'must be a PEM certificate')),
    ),
    list_path: z._default(apiPath, DEFAULT_LIST_PATH),
    drop_path: z._default(
      apiPath.check(z.refine((path) => path.includes('{session_id}'), 'must contain "{session_id}"')),
      DEFAULT_DROP_PATH,
    ),
    lookup_path: z._default(
      apiPath.check(z.refine((path) => path.includes('{id}'), 'must contain "{id}"')),
      DEFAULT_LOOKUP_PATH,
    ),
    credential_path: z._default(
      apiPath.check(z.refine((path) => !path.endsWith('/'), 'must not end with "/"')),
      DEFAULT_CREDENTIAL_PATH,
    ),
  },
  { error: 'must be a JSON object' },
);

export type PamAuth =
  /** OAuth 1.0a: every request signed with the four A2A values. */
  | { kind: 'oauth1'; credentials: OAuth1Credentials }
  /** OAuth 2.0 client credentials: a bearer token from /iso/oauth2/token. */
  | { kind: 'oauth2'; clientId: string; clientSecret: string };

/** What a PAM client needs to reach and authenticate to one PAM Core. */
export interface PamConnection {
  /** Without a trailing slash; paths are appended to it. */
  baseUrl: string;
  auth: PamAuth;
  caCertificate: string | undefined;
  listPath: string;
  dropPath: string;
  /** One session by its numeric id; `{id}` stands for it. */
  lookupPath: string;
  /** Root of the credential API: the list at it, one credential at `/{id}`, custody at `/custody/{id}`. */
  credentialPath: string;
}

const OAUTH1_KEYS = ['consumer_key', 'consumer_secret', 'token_key', 'token_secret'] as const;
const OAUTH2_KEYS = ['client_id', 'client_secret'] as const;

/** OAuth 2.0 when client_id or client_secret is given, OAuth 1.0a otherwise; a half-given set names what is missing. */
function authFrom(
  secretId: string,
  secret: Partial<Record<(typeof OAUTH1_KEYS)[number] | (typeof OAUTH2_KEYS)[number], string>>,
): PamAuth {
  const usesOAuth2 = OAUTH2_KEYS.some((key) => secret[key] !== undefined);
  const missing = (usesOAuth2 ? OAUTH2_KEYS : OAUTH1_KEYS).filter((key) => secret[key] === undefined);
  if (missing.length > 0) {
    const wanted = usesOAuth2 ? '' : ' (or give client_id and client_secret for OAuth 2.0)';
    throw new ConfigurationError(
      `Secret "${secretId}": ${missing.map((key) => `key "${key}" is missing`).join('; ')}${wanted}`,
    );
  }
  if (usesOAuth2) return { kind: 'oauth2', clientId: secret.client_id ?? '', clientSecret: secret.client_secret ?? '' };
  return {
    kind: 'oauth1',
    credentials: {
      consumerKey: secret.consumer_key ?? '',
      consumerSecret: secret.consumer_secret ?? '',
      tokenKey: secret.token_key ?? '',
      tokenSecret: secret.token_secret ?? '',
    },
  };
}

/** Parses the secret's JSON text. Errors name the secret and the key, never a value. */
export function parsePamSecret(secretId: string, secretString: string): PamConnection {
  let json: unknown;
  try {
    json = JSON.parse(secretString);
  } catch {
    // No cause: the parser's message quotes the secret.
    throw new ConfigurationError(`Secret "${secretId}" is not valid JSON`);
  }
  const parsed = pamSecretSchema.safeParse(json);
  if (!parsed.success) {
    const problems = issuesMessage(parsed.error, {
      subject: (path) => (path.length === 0 ? '' : `key "${path.join('.')}" `),
    });
    throw new ConfigurationError(`Secret "${secretId}": ${problems}`);
  }
  const secret = parsed.data;
  return {
    baseUrl: secret.base_url.replace(/\/+$/, ''),
    auth: authFrom(secretId, secret),
    caCertificate: secret.ca_certificate,
    listPath: secret.list_path,
    dropPath: secret.drop_path,
    lookupPath: secret.lookup_path,
    credentialPath: secret.credential_path,
  };
}

/**
 * The connection parsed from the secret's value last read: parsed again only when the value changes;
 * gone when a read brings another value that does not parse, or none.
 */
let parsed: { secretId: string; secretString: string; connection: PamConnection; readAt: number } | undefined;

/**
 * Reads the connection ahead of the call that needs it, to overlap a cold read with others.
 * Never rejects: the call's own read reports a failure.
 */
export async function prefetchPamConnection(): Promise<void> {
  await loadPamConnection().catch(() => undefined);
}

/** The connection read within PAM_SECRET_MAX_AGE_SECONDS, held without a wait; undefined: loadPamConnection reads it. */
export function heldPamConnection(): PamConnection | undefined {
  const { secretId, secretMaxAgeMs } = pamSettings();
  return parsed?.secretId === secretId && Date.now() - parsed.readAt < secretMaxAgeMs ? parsed.connection : undefined;
}

/**
 * Reads the PAM connection from the Secrets Manager secret named by PAM_SECRET_ID, through
 * Powertools' cache for PAM_SECRET_MAX_AGE_SECONDS (5 minutes by default). `forceFetch` bypasses
 * the cache, for when PAM rejected the cached credentials and the secret may have been rotated.
 */
export async function loadPamConnection(options: { forceFetch?: boolean } = {}): Promise<PamConnection> {
  // Read within the maximum age: its parse is what Powertools' cache would give again, without the wait.
  const held = options.forceFetch ? undefined : heldPamConnection();
  if (held) return held;
  const { secretId, secretMaxAgeMs } = pamSettings();
  const secretString = await readSecretString(secretId, secretMaxAgeMs, options.forceFetch ?? false);
  // Another value (or none): the previous connection is never the response again.
  if (parsed?.secretId !== secretId || parsed.secretString !== secretString) parsed = undefined;
  if (typeof secretString !== 'string') {
    throw new ConfigurationError(`Secret "${secretId}" has no SecretString (binary secrets are not supported)`);
  }
  // Parsed once per secret value: a broken secret is read (and refused) again on every call.
  parsed ??= { secretId, secretString, connection: parsePamSecret(secretId, secretString), readAt: 0 };
  parsed.readAt = Date.now();
  return parsed.connection;
}

async function readSecretString(secretId: string, maxAgeMs: number, forceFetch: boolean): Promise<unknown> {
  try {
    return await (await secrets()).get(secretId, { maxAge: maxAgeMs / 1_000, forceFetch, throwOnMissing: true });
  } catch (error) {
    const name = awsErrorName(error);
    switch (awsFailureKind(name)) {
      case 'not_found':
        throw new ConfigurationError(`Secret "${secretId}" was not found (check PAM_SECRET_ID and the region)`, {
          cause: error,
        });
      case 'operator_must_act':
        throw new ConfigurationError(
          `Secret "${secretId}" could not be read: ${name} (check the function's IAM role and the key policy)`,
          { cause: error },
        );
      default:
        throw new SecretsUnavailableError(
          `Secret "${secretId}" could not be read right now: ${name ?? 'unknown error'}`,
          { cause: error },
        );
    }
  }
}
