import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldName, nameMatches, parseAccountName, protects } from '../../lib/sessions/account-name.js';

const protectedBy = (entry: string, name: string) => protects(parseAccountName(entry), parseAccountName(name));
const matchedBy = (wanted: string, name: string) => nameMatches(parseAccountName(wanted), parseAccountName(name));

describe('foldName', () => {
  it('makes one name of its composed, decomposed, full-width and upper-case forms', () => {
    expect(foldName('joão')).toBe(foldName('joa\u0303o'));
    expect(foldName('JOÃO')).toBe(foldName('joa\u0303o'));
    expect(foldName('ＪＳｉｌｖａ')).toBe('jsilva');
    expect(foldName('  JSilva ')).toBe('jsilva');
    // Final sigma is folded as Unicode case folding does; toLowerCase alone would keep ς apart from σ.
    expect(foldName('ΟΔΥΣΣΕΥΣ')).toBe(foldName('οδυσσευσ'));
  });

  it('keeps different names apart', () => {
    expect(foldName('joao')).not.toBe(foldName('joão'));
    expect(foldName('ß')).not.toBe(foldName('ss'));
    expect(foldName('admin')).not.toBe(foldName('admin1'));
  });
});

describe('parseAccountName', () => {
  it('reads DOMAIN\\user and user@domain, folded', () => {
    expect(parseAccountName('CORP\\JSilva')).toEqual({ account: 'jsilva', domain: 'corp' });
    expect(parseAccountName('JSilva@Corp.Example')).toEqual({ account: 'jsilva', domain: 'corp.example' });
    expect(parseAccountName('jsilva')).toEqual({ account: 'jsilva', domain: null });
    expect(parseAccountName('\\jsilva')).toEqual({ account: '\\jsilva', domain: null });
    expect(parseAccountName('jsilva@')).toEqual({ account: 'jsilva@', domain: null });
    // A separator with nothing on one side splits nothing: the text is one account name.
    expect(parseAccountName('CORP\\')).toEqual({ account: 'corp\\', domain: null });
    expect(parseAccountName('@corp.example')).toEqual({ account: '@corp.example', domain: null });
  });
});

describe('protects: errs towards protecting', () => {
  it('protects the name however it is written (the seen bug: joão did not protect joa\\u0303o)', () => {
    expect(protectedBy('joão', 'joa\u0303o')).toBe(true);
    expect(protectedBy('joa\u0303o', 'JOÃO')).toBe(true);
  });

  it('protects an entry without a domain in every domain', () => {
    for (const name of ['CORP\\joão', 'joão@corp', 'joa\u0303o@corp.example', '.\\JOÃO'])
      expect(protectedBy('joão', name)).toBe(true);
  });

  it('protects an entry with a domain wherever the domain could be the same', () => {
    expect(protectedBy('CORP\\admin', 'admin')).toBe(true);
    expect(protectedBy('CORP\\admin', 'corp\\ADMIN')).toBe(true);
    expect(protectedBy('CORP\\admin', 'admin@CORP')).toBe(true);
    // CORP may be corp.example's NetBIOS name: it cannot be told, so it is protected.
    expect(protectedBy('CORP\\admin', 'admin@corp.example')).toBe(true);
    expect(protectedBy('admin@corp.example', 'CORP\\admin')).toBe(true);
    // Two domains of the same kind that differ are different domains.
    expect(protectedBy('CORP\\admin', 'OTHER\\admin')).toBe(false);
    expect(protectedBy('admin@corp.example', 'admin@other.example')).toBe(false);
    // `.` (the machine) is a NetBIOS-style name: it may be a DNS domain's, not another NetBIOS one.
    expect(protectedBy('.\\admin', 'admin@corp.example')).toBe(true);
    expect(protectedBy('.\\admin', 'OTHER\\admin')).toBe(false);
  });

  it('never protects another account', () => {
    expect(protectedBy('admin', 'administrator')).toBe(false);
    expect(protectedBy('admin', 'CORP\\admins')).toBe(false);
    expect(protectedBy('CORP\\admin', 'CORP\\root')).toBe(false);
  });
});

describe('nameMatches: never broader than the criteria say', () => {
  it('matches a name without a domain in every domain, however it is written', () => {
    for (const name of ['JSilva', 'CORP\\jsilva', 'jsilva@corp.example', 'ｊｓｉｌｖａ'])
      expect(matchedBy('jsilva', name)).toBe(true);
    expect(matchedBy('joão', 'CORP\\joa\u0303o')).toBe(true);
  });

  it('matches a name with a domain only in that domain, written as that kind of domain', () => {
    expect(matchedBy('CORP\\jsilva', 'corp\\JSILVA')).toBe(true);
    expect(matchedBy('CORP\\jsilva', 'jsilva@corp')).toBe(true);
    expect(matchedBy('jsilva@corp.example', 'JSILVA@CORP.EXAMPLE')).toBe(true);
    // A session without a domain, another domain, or a domain that may or may not be the same: not cut.
    expect(matchedBy('CORP\\jsilva', 'jsilva')).toBe(false);
    expect(matchedBy('CORP\\jsilva', 'OTHER\\jsilva')).toBe(false);
    expect(matchedBy('CORP\\jsilva', 'jsilva@corp.example')).toBe(false);
    expect(matchedBy('jsilva@corp.example', 'CORP\\jsilva')).toBe(false);
  });

  it('never matches another account', () => {
    expect(matchedBy('jsilva', 'jsilva2')).toBe(false);
    expect(matchedBy('jsilva', 'CORP\\jsilv')).toBe(false);
  });
});

describe('account names, for any name', () => {
  const part = fc.string({ unit: fc.constantFrom(...'aAãÃa\u0303ıİiIσςΣßsSｊJ.\\@ '), maxLength: 8 });
  const text = fc.oneof(part, fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }));

  it('folding is idempotent and blind to composition and case', () => {
    fc.assert(
      fc.property(text, (name) => {
        const folded = foldName(name);
        expect(foldName(folded)).toBe(folded);
        expect(foldName(name.normalize('NFD'))).toBe(folded);
        expect(foldName(name.toUpperCase())).toBe(foldName(name.toUpperCase().toLowerCase()));
      }),
      { numRuns: 1000 },
    );
  });

  it('whatever a criteria value matches, the same text as a protected entry protects', () => {
    // Mostly a name and a way PAM may write the same account (by construction, not by the product's
    // folding: case, composition, a domain in either form); sometimes two unrelated texts.
    const letters = fc.string({ unit: fc.constantFrom(...'abcxyzãé_-0129'), minLength: 1, maxLength: 8 });
    const realm = fc.constantFrom('CORP', 'corp.example', 'Dom');
    const sameAccount = fc
      .tuple(letters, realm, fc.constantFrom('as is', 'upper', 'nfd', 'backslash', 'at'))
      .map(([account, where, form]) => {
        const written = {
          'as is': account,
          upper: account.toUpperCase(),
          nfd: account.normalize('NFD'),
          backslash: `${where}\\${account}`,
          at: `${account}@${where}`,
        }[form];
        return { wanted: account, name: written, same: true };
      });
    const unrelated = fc.tuple(text, text).map(([wanted, name]) => ({ wanted, name, same: false }));
    let matched = 0;
    let runs = 0;
    fc.assert(
      fc.property(fc.oneof({ arbitrary: sameAccount, weight: 4 }, { arbitrary: unrelated, weight: 1 }), (pair) => {
        runs += 1;
        if (pair.same) expect(matchedBy(pair.wanted, pair.name)).toBe(true);
        if (matchedBy(pair.wanted, pair.name)) {
          matched += 1;
          expect(protectedBy(pair.wanted, pair.name)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
    expect(matched / runs).toBeGreaterThanOrEqual(0.5);
  });

  it('an entry without a domain protects its account in any domain, in either form', () => {
    const plain = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !/[\\@]/.test(s) && s.trim() !== '');
    const domain = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !/[\\@]/.test(s) && s.trim() !== '');
    fc.assert(
      fc.property(plain, domain, (account, realm) => {
        const name = account.trim();
        const where = realm.trim();
        expect(protectedBy(name, `${where}\\${name}`)).toBe(true);
        expect(protectedBy(name, `${name}@${where}`)).toBe(true);
        expect(matchedBy(name, `${where}\\${name.normalize('NFD')}`)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
