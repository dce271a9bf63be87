import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';

const KEEP_ALIVE_MS = 30_000;

let current: { caCertificate: string | undefined; agent: Agent } | undefined;

/**
 * The one connection pool of this container, reused across warm invocations. A private CA from
 * the secret is trusted in addition to the system CAs; verification itself is never relaxed.
 * When the secret brings a different CA, the pool is replaced.
 */
export function pamAgent(caCertificate: string | undefined): Agent {
  if (current && current.caCertificate === caCertificate) return current.agent;
  const previous = current?.agent;
  const agent = new Agent({
    keepAliveTimeout: KEEP_ALIVE_MS,
    connect: caCertificate === undefined ? {} : { ca: [...rootCertificates, caCertificate] },
  });
  current = { caCertificate, agent };
  void previous?.close();
  return agent;
}
