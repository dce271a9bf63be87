import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/core/errors.js';
import { parseSessionId } from '../../lib/sessions/session-id.js';

const allowed = /^[A-Za-z0-9_-]$/;

describe('parseSessionId', () => {
  it('accepts PAM session hashes and ids up to 128 characters', () => {
    expect(parseSessionId('3fcf1e4a16104e328d6794e1b9693cfc457871d2')).toBe('3fcf1e4a16104e328d6794e1b9693cfc457871d2');
    expect(parseSessionId('a')).toBe('a');
    expect(parseSessionId(`A_-9${'x'.repeat(124)}`)).toHaveLength(128);
  });

  it.each([
    ['', 'session_id must not be empty'],
    ['x'.repeat(129), 'session_id must be at most 128 characters'],
    ['../../api/session/remotesessions', 'session_id may contain only letters, digits, "_" and "-"'],
    ['abc%2F..', 'session_id may contain only letters, digits, "_" and "-"'],
    ['abc def', 'session_id may contain only letters, digits, "_" and "-"'],
    ['abc?x=1', 'session_id may contain only letters, digits, "_" and "-"'],
    ['sessão', 'session_id may contain only letters, digits, "_" and "-"'],
    ['abc\n', 'session_id may contain only letters, digits, "_" and "-"'],
  ])('refuses %j', (value, message) => {
    expect(() => parseSessionId(value)).toThrow(new ValidationError(message));
  });

  it.each([[undefined], [null], [42], [{}], [['abc']]])('refuses the non-string %j', (value) => {
    expect(() => parseSessionId(value)).toThrow(ValidationError);
  });

  it('accepts exactly the ids that need no URL encoding', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 140, unit: 'binary' }), (value) => {
        const valid = value.length >= 1 && value.length <= 128 && [...value].every((char) => allowed.test(char));
        if (valid) expect(encodeURIComponent(parseSessionId(value))).toBe(value);
        else expect(() => parseSessionId(value)).toThrow(ValidationError);
      }),
      { numRuns: 2000 },
    );
  });
});
