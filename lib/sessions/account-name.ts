/**
 * Account names (users, credentials) compared as names, the one implementation behind match
 * criteria and the protected lists. `DOMAIN\user` and `user@domain` are split into the account and
 * its domain; the two directions err differently, on purpose:
 * - protection errs towards protecting: a name is protected unless its domain is known to differ;
 * - matching errs towards not cutting: a domain in the criteria must be the session's.
 */
export interface AccountName {
  account: string;
  /** Null when the name has none. */
  domain: string | null;
}

/**
 * NFKC makes one name of its composed and decomposed (`joão`, `joa\u0303o`), full-width and
 * ligature forms; then Unicode's default lower case. toLowerCase() is locale-independent, as
 * toLocaleLowerCase('und') is (the host's locale would turn Turkish I into ı); final sigma is
 * folded to σ, as case folding does and toLowerCase() does not. ß stays ß: full folding's "ss"
 * would merge names a directory may keep apart.
 */
export function foldName(text: string): string {
  return text.normalize('NFKC').toLowerCase().replaceAll('ς', 'σ').normalize('NFKC').trim();
}

export function parseAccountName(text: string): AccountName {
  const name = foldName(text);
  const slash = name.indexOf('\\');
  if (slash > 0 && slash < name.length - 1) return { account: name.slice(slash + 1), domain: name.slice(0, slash) };
  const at = name.lastIndexOf('@');
  if (at > 0 && at < name.length - 1) return { account: name.slice(0, at), domain: name.slice(at + 1) };
  return { account: name, domain: null };
}

/** A DNS domain (corp.example) and a NetBIOS one (CORP, or `.` for the machine) may name the same domain. */
const isDns = (domain: string) => domain !== '.' && domain.includes('.');

/** Whether a protected entry covers `name`: the same account, in a domain not known to be another. */
export function protects(entry: AccountName, name: AccountName): boolean {
  if (entry.account !== name.account) return false;
  if (entry.domain === null || name.domain === null) return true;
  return isDns(entry.domain) !== isDns(name.domain) || entry.domain === name.domain;
}

/** Whether criteria select `name`: the same account; and, when the criteria give a domain, that very domain. */
export function nameMatches(wanted: AccountName, name: AccountName): boolean {
  if (wanted.account !== name.account) return false;
  return wanted.domain === null || wanted.domain === name.domain;
}
