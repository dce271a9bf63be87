import { listCredentials, type PamCredential } from '../pam/credential-api.js';
import type { PamCallOptions } from '../pam/pam-client.js';
import { foldName } from '../sessions/account-name.js';
import { parseAddress, sameAddress } from '../sessions/ip-address.js';

/** The credential list this container read last: kept like the index, read again when stale or on a miss. */
let cached: { readAt: number; credentials: PamCredential[] } | undefined;

/** Forgets the cached list (tests; a new secret may point at another PAM Core). */
export function forgetCredentialList(): void {
  cached = undefined;
}

export type Lookup = { found: PamCredential } | { reason: string };

function sameDevice(credential: PamCredential, host: string): boolean {
  const address = parseAddress(host);
  const ip = parseAddress(credential.ip);
  if (address && ip) return sameAddress(address, ip);
  return credential.hostname !== null && foldName(credential.hostname) === foldName(host);
}

function matching(credentials: PamCredential[], username: string, host: string): PamCredential[] {
  const name = foldName(username);
  return credentials.filter((credential) => foldName(credential.username) === name && sameDevice(credential, host));
}

/**
 * Finds the one credential a session used: its credential (username) on its device's address, in
 * PAM's credential list. Usernames are compared whole (no domain folding): a near match is never
 * contained. No match or more than one is a reason, never a guess.
 */
export class CredentialLookup {
  private refreshed = false;

  constructor(
    private readonly maxAgeMs: number,
    private readonly options: PamCallOptions,
  ) {}

  /** A list that could not be read is not asked for again in this request: each session gets the same failure. */
  private failure: unknown;

  private async list(refresh: boolean): Promise<PamCredential[]> {
    if (this.failure !== undefined) throw this.failure;
    const fresh = cached !== undefined && Date.now() - cached.readAt <= this.maxAgeMs;
    if (!fresh || refresh) {
      try {
        cached = { readAt: Date.now(), credentials: await listCredentials(this.options) };
      } catch (error) {
        this.failure = error;
        throw error;
      }
      this.refreshed = true;
    }
    return cached?.credentials ?? [];
  }

  async find(username: string | null, host: string | null): Promise<Lookup> {
    if (!username || !host)
      return { reason: 'the session names no credential or no device to look the credential up by' };
    let found = matching(await this.list(false), username, host);
    // A credential created since the list was read: read it again, once per request.
    if (found.length === 0 && !this.refreshed) found = matching(await this.list(true), username, host);
    if (found.length === 1 && found[0]) return { found: found[0] };
    if (found.length === 0)
      return {
        reason: `no credential "${username}" on ${host} in PAM's credential list (as this application sees it)`,
      };
    return {
      reason: `${found.length} credentials "${username}" on ${host} in PAM's credential list (ids ${found.map((c) => c.id).join(', ')}): none was contained, a human decides`,
    };
  }
}
