import { environmentCredentials } from '../core/settings.js';
import { sendSigned, standardDomain } from './sigv4-request.js';

/** An AWS JSON 1.1 API this path can call: its signing name, the credentials and where to send. */
export interface JsonApi {
  service: 'events' | 'secretsmanager';
  environment: NonNullable<ReturnType<typeof environmentCredentials>>;
  endpoint: string;
}

/**
 * The API as this path calls it: the endpoint set in the environment, else the region's standard
 * one. Undefined without credentials in the environment, or when only the SDK's endpoint rules
 * know the endpoint (FIPS, dual-stack, another partition): the SDK client calls it then.
 */
export function jsonApi(service: JsonApi['service']): JsonApi | undefined {
  const environment = environmentCredentials();
  if (!environment) return undefined;
  const configured = service === 'events' ? environment.eventBridgeEndpoint : environment.secretsManagerEndpoint;
  const domain = standardDomain(environment.region);
  const endpoint = configured ?? (domain && `https://${service}.${environment.region}.${domain}`);
  return endpoint ? { service, environment, endpoint } : undefined;
}

/** A whole call an AWS JSON 1.1 API refused, by the type it names (awsErrorName reads it). */
export class AwsJsonError extends Error {
  constructor(
    override readonly name: string,
    readonly status: number,
    service: string,
  ) {
    super(`${service} answered ${status} ${name}`);
  }
}

/** Worth sending again: throttling and AWS's own failures; a refusal (access denied, a malformed call) is not. */
export const isTransientJsonError = (error: unknown): boolean =>
  !(error instanceof AwsJsonError) || error.status >= 500 || error.status === 429 || /Throttl/i.test(error.name);

/**
 * One call to an AWS JSON 1.1 API (EventBridge, Secrets Manager), signed by the SDK's own SigV4
 * signer and sent with Node's HTTP client, within `timeoutMs` (connection included). Resolves with
 * the parsed answer; a refusal is thrown as AwsJsonError.
 */
export async function callJsonApi<T>(
  { service, environment, endpoint }: JsonApi,
  target: string,
  payload: unknown,
  timeoutMs: number,
): Promise<T> {
  // JSON 1.1 calls are sent to the endpoint's root.
  const answer = await sendSigned(service, environment, new URL('/', endpoint), {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (answer.status !== 200) {
    const header = answer.headers['x-amzn-errortype'];
    const type = (() => {
      try {
        return String((JSON.parse(answer.body) as { __type?: string }).__type ?? '');
      } catch {
        return '';
      }
    })();
    // JSON 1.1 names the type in a header or the body, maybe with a namespace ("…#ThrottlingException") or a suffix (":…").
    const name = (type || (typeof header === 'string' ? header : '')).split(':')[0]?.split('#').pop();
    throw new AwsJsonError(name || `Http${answer.status}`, answer.status, service);
  }
  try {
    return JSON.parse(answer.body) as T;
  } catch {
    // JSON.parse quotes the text it could not read, and a GetSecretValue answer is the secret.
    throw new AwsJsonError('InvalidResponse', answer.status, service);
  }
}
