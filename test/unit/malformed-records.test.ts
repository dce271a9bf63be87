import { describe, expect, it } from 'vitest';
import { MalformedRecords } from '../../lib/sessions/malformed-records.js';
import { captureOutput, logLinesSaying } from '../support/output-capture.js';

const output = captureOutput();

describe('the records left out of a list', () => {
  it('counts them across batches, and logs why for the first ten only', () => {
    const from = output.text().length;
    const malformed = new MalformedRecords();
    const reasons = (first: number, count: number) =>
      Array.from({ length: count }, (_, n) => `record ${first + n}: no session_id`);
    expect(malformed.add(reasons(1, 7))).toBe(7);
    expect(malformed.add([])).toBe(7);
    expect(malformed.add(reasons(8, 5))).toBe(12);
    expect(malformed.count).toBe(12);
    const lines = logLinesSaying(output.text().slice(from), 'Skipped a malformed session record');
    expect(lines.map((line) => [line.level, line.reason])).toEqual(reasons(1, 10).map((reason) => ['WARN', reason]));
  });
});
