import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ElementBlock,
  JsonArrayStreamParser,
  JsonStreamError,
  joinElementBlocks,
} from '../../lib/sessions/json-array-stream.js';
import { vendorSessionRecord } from '../support/fixtures.js';

/** Feeds `text` in chunks cut at `cuts` (byte offsets) and collects what the parser hands out. */
function parseInChunks(text: string, cuts: number[], key = 'remote_sessions') {
  const bytes = Buffer.from(text, 'utf8');
  const offsets = [...new Set(cuts.map((cut) => Math.min(bytes.length, Math.max(0, cut))))].sort((a, b) => a - b);
  const parser = new JsonArrayStreamParser(key);
  const values: unknown[] = [];
  const blocks: ElementBlock[] = [];
  let unparsable = 0;
  let from = 0;
  for (const to of [...offsets, bytes.length]) {
    const { bytes: block, ranges } = parser.push(bytes.subarray(from, to));
    if (ranges.length > 0) blocks.push({ bytes: block, ranges });
    for (let i = 0; i < ranges.length; i += 2) {
      try {
        values.push(JSON.parse(block.toString('utf8', ranges[i], ranges[i + 1])));
      } catch {
        unparsable += 1;
      }
    }
    from = to;
  }
  expectJoinedBlocksToHold(blocks, values, unparsable);
  return { values, unparsable, rest: parser.end(), foundArray: parser.foundArray };
}

/** Blocks joined into one are one array text of every element, and each range still points at its element. */
function expectJoinedBlocksToHold(blocks: ElementBlock[], values: unknown[], unparsable: number) {
  const joined = joinElementBlocks(blocks);
  const text = Buffer.from(joined.bytes.buffer, joined.bytes.byteOffset, joined.bytes.byteLength);
  const perRange = blocks.flatMap((block) =>
    Array.from({ length: block.ranges.length / 2 }, (_, i) =>
      block.bytes.toString('utf8', block.ranges[2 * i], block.ranges[2 * i + 1]),
    ),
  );
  expect(
    Array.from({ length: joined.ranges.length / 2 }, (_, i) =>
      text.toString('utf8', joined.ranges[2 * i], joined.ranges[2 * i + 1]),
    ),
  ).toEqual(perRange);
  if (unparsable === 0) {
    for (const block of blocks) expect(JSON.parse(block.bytes.toString('utf8'))).toHaveLength(block.ranges.length / 2);
    expect(JSON.parse(text.toString('utf8'))).toEqual(values);
  }
}

function everyCut(text: string, size: number): number[] {
  const length = Buffer.byteLength(text);
  return Array.from({ length: Math.ceil(length / size) }, (_, index) => index * size);
}

const vendorBody = JSON.stringify({
  code: 200,
  response: {
    status: 200,
    message: '',
    error: false,
    error_code: 0,
    detail: '',
    mensagem: '',
    erro: false,
    cod_erro: 0,
  },
  tenant: 'Segura',
  remote_sessions: [
    vendorSessionRecord,
    {
      id: '6',
      user: 'Sessão "ção" \\ \u0000 \ud83d\ude00 {[',
      origin_ip: '172.16.20.125',
      session_id: 'c819',
      nested: { a: [1, { b: '}' }] },
    },
  ],
});

describe('JsonArrayStreamParser', () => {
  it('hands out every element and keeps the other members, whatever the chunk size from 1 byte up', () => {
    const whole = JSON.parse(vendorBody);
    const { remote_sessions, ...rest } = whole;
    for (const size of [1, 2, 3, 5, 7, 13, 64, 1000, 1 << 20]) {
      expect(parseInChunks(vendorBody, everyCut(vendorBody, size))).toEqual({
        values: remote_sessions,
        unparsable: 0,
        rest,
        foundArray: true,
      });
    }
  });

  it('reads members after the array, an empty array, and pretty-printed JSON', () => {
    const body = JSON.stringify({ remote_sessions: [], response: { error: false }, tenant: 'x' }, null, 2);
    expect(parseInChunks(body, everyCut(body, 3))).toEqual({
      values: [],
      unparsable: 0,
      rest: { response: { error: false }, tenant: 'x' },
      foundArray: true,
    });
  });

  it('keeps an array under another key, or a nested remote_sessions, as an ordinary member', () => {
    const body = JSON.stringify({ other: [1, 2], response: { remote_sessions: [9] } });
    expect(parseInChunks(body, [5, 17])).toEqual({
      values: [],
      unparsable: 0,
      rest: JSON.parse(body),
      foundArray: false,
    });
  });

  it('hands out an element that is not valid JSON with its neighbours, for the decoder to count', () => {
    const body = '{"remote_sessions":[{"id":1},{"id":01},{"id":"x\\q"},{"id":3}]}';
    expect(parseInChunks(body, [])).toMatchObject({ values: [{ id: 1 }, { id: 3 }], unparsable: 2 });
  });

  it.each([
    ['truncated inside an element', '{"remote_sessions":[{"id":1},{"id":'],
    ['truncated inside a string', '{"remote_sessions":[{"id":"abc'],
    ['truncated after the array', '{"remote_sessions":[{"id":1}]'],
    ['truncated before anything', ''],
    ['cut right after a comma', '{"remote_sessions":[{"id":1},'],
  ])('refuses a body %s at the end', (_label, body) => {
    const parser = new JsonArrayStreamParser('remote_sessions');
    parser.push(Buffer.from(body));
    expect(() => parser.end()).toThrow(JsonStreamError);
  });

  it.each([
    ['HTML', '<html><body>502 Bad Gateway</body></html>'],
    ['an array', '[1,2]'],
    ['a trailing comma in the array', '{"remote_sessions":[1,]}'],
    ['garbage after the JSON', '{"remote_sessions":[]} x'],
    ['a missing colon', '{"remote_sessions" []}'],
  ])('refuses %s', (_label, body) => {
    const parser = new JsonArrayStreamParser('remote_sessions');
    expect(() => {
      parser.push(Buffer.from(body));
      parser.end();
    }).toThrow(JsonStreamError);
  });

  it("hands out each chunk's elements as one array text with their ranges", () => {
    const parser = new JsonArrayStreamParser('remote_sessions');
    const { bytes, ranges } = parser.push(Buffer.from('{"remote_sessions":[ {"a":1} , "x",[2,'));
    expect(bytes.toString()).toBe('[{"a":1} , "x"]');
    expect([...ranges]).toEqual([1, 8, 11, 14]);
    expect(JSON.parse(bytes.toString())).toEqual([{ a: 1 }, 'x']);
  });

  it('refuses an element larger than its limit instead of buffering it', () => {
    const parser = new JsonArrayStreamParser('remote_sessions', 1024);
    parser.push(Buffer.from('{"remote_sessions":[{"id":"'));
    expect(() => parser.push(Buffer.alloc(2048, 0x61))).toThrow(/larger than 1024 bytes/);
  });

  it('agrees with JSON.parse on arbitrary values, split at arbitrary places', () => {
    const member = fc.jsonValue({ maxDepth: 3 });
    fc.assert(
      fc.property(
        fc.array(member, { maxLength: 12 }),
        fc.dictionary(
          fc.string().filter((key) => key !== 'remote_sessions'),
          member,
          { maxKeys: 4 },
        ),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.boolean(),
        (sessions, others, arrayFirst, cuts, pretty) => {
          const object = arrayFirst
            ? { remote_sessions: sessions, ...others }
            : { ...others, remote_sessions: sessions };
          const text = JSON.stringify(object, null, pretty ? 1 : undefined);
          const length = Buffer.byteLength(text);
          const result = parseInChunks(
            text,
            cuts.map((cut) => cut % (length + 1)),
          );
          const expected = JSON.parse(text);
          expect(result.values).toEqual(expected.remote_sessions);
          const { remote_sessions: _ignored, ...rest } = expected;
          expect(result.rest).toEqual(rest);
          expect(result.unparsable).toBe(0);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('agrees with JSON.parse on unicode and escapes at every single-byte boundary', () => {
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), { maxKeys: 3 }), {
          maxLength: 4,
        }),
        (sessions) => {
          const text = JSON.stringify({ remote_sessions: sessions });
          expect(parseInChunks(text, everyCut(text, 1)).values).toEqual(JSON.parse(text).remote_sessions);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws anything but a JsonStreamError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(200), (bytes, cut) => {
        const parser = new JsonArrayStreamParser('remote_sessions');
        try {
          parser.push(bytes.subarray(0, cut));
          parser.push(bytes.subarray(cut));
          parser.end();
        } catch (error) {
          expect(error).toBeInstanceOf(JsonStreamError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

/** JSON text with any of JSON's four whitespace characters between tokens, written independently of the parser. */
function spaced(value: unknown, gap: () => string): string {
  if (Array.isArray(value)) {
    return `[${gap()}${value.map((item) => `${spaced(item, gap)}${gap()}`).join(`,${gap()}`)}]`;
  }
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value).map(
      ([key, item]) => `${JSON.stringify(key)}${gap()}:${gap()}${spaced(item, gap)}${gap()}`,
    );
    return `{${gap()}${members.join(`,${gap()}`)}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

describe('JsonArrayStreamParser, on whitespace, limits and broken bodies', () => {
  it('agrees with JSON.parse whatever whitespace surrounds the tokens, split anywhere', () => {
    const whitespace = fc.array(fc.constantFrom(' ', '\t', '\r', '\n'), { maxLength: 3 }).map((list) => list.join(''));
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 6 }),
        fc.dictionary(
          fc.string().filter((key) => key !== 'remote_sessions'),
          fc.jsonValue({ maxDepth: 2 }),
          { maxKeys: 3 },
        ),
        fc.infiniteStream(whitespace),
        fc.array(fc.nat(), { maxLength: 12 }),
        (sessions, others, gaps, cuts) => {
          const text = `${gaps.next().value}${spaced({ ...others, remote_sessions: sessions }, () => gaps.next().value)}${gaps.next().value}`;
          const length = Buffer.byteLength(text);
          const result = parseInChunks(
            text,
            cuts.map((cut) => cut % (length + 1)),
          );
          const { remote_sessions, ...rest } = JSON.parse(text);
          expect(result).toEqual({ values: remote_sessions, unparsable: 0, rest, foundArray: true });
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('reads an empty object, and a remote_sessions that is not an array as an ordinary member', () => {
    expect(parseInChunks('{}', [])).toEqual({ values: [], unparsable: 0, rest: {}, foundArray: false });
    expect(parseInChunks(' { } ', [1, 3])).toMatchObject({ rest: {} });
    const body = '{"remote_sessions":"none","count":0}';
    expect(parseInChunks(body, [19])).toEqual({
      values: [],
      unparsable: 0,
      rest: { remote_sessions: 'none', count: 0 },
      foundArray: false,
    });
  });

  it.each([
    [' [1]', 'the body is not a JSON object'],
    ['{1:2}', 'unexpected "1:2}" where a member name was expected'],
    ['{"a":1,}', 'unexpected "}" where a member name was expected'],
    ['{"a" 1}', 'unexpected "1}" after a member name'],
    ['{"a":1 "b":2}', 'unexpected "\\"b\\":2}" after a member'],
    ['{"a":1 "bbbbbbbbbbbbbbbbbbbbbbbb":2}', 'unexpected "\\"bbbbbbbbbbb" after a member'],
    ['{"remote_sessions":[1,]}', 'a comma before the end of the array'],
    ['{"remote_sessions":[1 2]}', 'unexpected "2]}" between array elements'],
    ['{"a":1} x', 'unexpected "x" after the end of the JSON'],
    ['{"a":,"b":1}', 'unexpected ",\\"b\\":1}" where a value was expected'],
    ['{"a\\q":1}', 'a member name is not valid JSON'],
    ['{"a":tru}', 'the members around the array is not valid JSON'],
    ['{"a":1', 'the body ended before its JSON was complete (truncated)'],
  ])('says what is wrong with %s', (body, message) => {
    const parser = new JsonArrayStreamParser('remote_sessions');
    let thrown: unknown;
    try {
      parser.push(Buffer.from(body));
      parser.end();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(JsonStreamError);
    expect(thrown).toMatchObject({ name: 'JsonStreamError', message });
  });

  it('keeps the cause of a name or members JSON.parse refused', () => {
    const parser = new JsonArrayStreamParser('remote_sessions');
    expect(() => parser.push(Buffer.from('{"a\\q":1}'))).toThrow(
      expect.objectContaining({ cause: expect.any(SyntaxError) }),
    );
  });

  it('holds a value in progress of exactly its limit, not one byte more, wherever it starts in the chunk', () => {
    const head = '{"remote_sessions":[';
    const value = (length: number) => `"${'a'.repeat(length - 1)}`;
    expect(() => new JsonArrayStreamParser('remote_sessions', 16).push(Buffer.from(head + value(16)))).not.toThrow();
    expect(() => new JsonArrayStreamParser('remote_sessions', 16).push(Buffer.from(head + value(17)))).toThrow(
      'a value in the body is larger than 16 bytes',
    );
  });

  it('reads a whole body larger than the limit in one chunk: only a value in progress counts', () => {
    const body = JSON.stringify({
      tenant: 'Segura',
      remote_sessions: Array.from({ length: 200 }, (_, n) => ({ id: String(n) })),
      code: 200,
    });
    expect(Buffer.byteLength(body)).toBeGreaterThan(2_048);
    const parser = new JsonArrayStreamParser('remote_sessions', 64);
    expect(parser.push(Buffer.from(body)).ranges.length).toBe(400);
    expect(parser.end()).toEqual({ tenant: 'Segura', code: 200 });
    // Whatever comes last: an element, an empty array, a member.
    const sessions = Array.from({ length: 20 }, (_, n) => ({ id: String(n) }));
    for (const last of [
      { tenant: 'Segura'.repeat(20), remote_sessions: sessions },
      { tenant: 'Segura'.repeat(20), remote_sessions: [] },
      { remote_sessions: sessions, tenant: 'Segura'.repeat(20) },
    ]) {
      const whole = new JsonArrayStreamParser('remote_sessions', 64);
      whole.push(Buffer.from(JSON.stringify(last)));
      expect(whole.end()).toEqual({ tenant: last.tenant });
    }
  });
});
