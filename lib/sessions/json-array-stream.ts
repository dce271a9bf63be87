const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

enum State {
  Start,
  KeyOrEnd,
  Key,
  Colon,
  Value,
  SkipValue,
  AfterValue,
  ElementOrEnd,
  Element,
  AfterElement,
  Done,
}

function parseOrThrow(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new JsonStreamError(`${what} is not valid JSON`, { cause: error });
  }
}

const isSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** The JSON is broken or ended early: nothing read from it can be trusted as complete. */
export class JsonStreamError extends Error {
  override readonly name = 'JsonStreamError';
}

/** The array elements a chunk completed, as raw JSON: one array text holding them, and each element's range in it. */
export interface ElementBlock {
  /** `[element0,element1,…]`, the elements' bytes as they arrived (whitespace between them included). */
  bytes: Buffer;
  /** [start0, end0, start1, end1, …], byte offsets into `bytes`. */
  ranges: Uint32Array;
}

const EMPTY_BLOCK: ElementBlock = { bytes: Buffer.from('[]'), ranges: new Uint32Array(0) };

/** Joins blocks into one: one array text holding all their elements, their ranges moved along. */
export function joinElementBlocks(blocks: ElementBlock[]): { bytes: Uint8Array; ranges: Uint32Array } {
  // Each block is `[…]`: its brackets give way to the commas between blocks and the job's own brackets.
  const length = blocks.reduce((sum, block) => sum + block.bytes.length - 1, 0) + 1 + (blocks.length === 0 ? 1 : 0);
  const bytes = new Uint8Array(length);
  const ranges = new Uint32Array(blocks.reduce((sum, block) => sum + block.ranges.length, 0));
  bytes[0] = OPEN_ARRAY;
  let offset = 0;
  let at = 0;
  blocks.forEach((block, index) => {
    if (index > 0) bytes[offset] = COMMA;
    bytes.set(block.bytes.subarray(1, -1), offset + 1);
    for (const position of block.ranges) ranges[at++] = position + offset;
    offset += block.bytes.length - 1;
  });
  bytes[length - 1] = CLOSE_ARRAY;
  return { bytes, ranges };
}

/**
 * Reads a JSON object arriving in chunks and hands out the elements of one of its arrays
 * (`{"…": …, "<arrayKey>": [ … ], …}`) as soon as each is complete, never holding more than the
 * element in progress. It only finds boundaries (respecting strings and escapes) and hands out the
 * raw bytes: parsing them (session-block.ts) can then happen in one JSON.parse per block, and on
 * another thread. The object's other members are kept and returned by end().
 */
export class JsonArrayStreamParser {
  private pending: Buffer = Buffer.alloc(0);
  private state = State.Start;
  /** Where the token in progress starts in `pending` (-1: none). */
  private tokenStart = -1;
  /** Where scanning resumes in `pending`. */
  private resumeAt = 0;
  private depth = 0;
  private inString = false;
  private expectMember = false;
  private currentKey = '';
  private currentKeyJson = '';
  private readonly members: string[] = [];
  private arraySeen = false;

  constructor(
    private readonly arrayKey: string,
    private readonly maxTokenBytes = 1024 * 1024,
  ) {}

  /** True once the array was found (even if empty). */
  get foundArray(): boolean {
    return this.arraySeen;
  }

  push(chunk: Uint8Array): ElementBlock {
    const incoming = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, incoming]) : incoming;
    const completed: Array<[number, number]> = [];
    let i = this.resumeAt;

    while (i < buf.length) {
      switch (this.state) {
        case State.Start: {
          i = this.skipSpace(buf, i);
          if (i >= buf.length) break;
          if (buf[i] !== OPEN_OBJECT) throw new JsonStreamError('the body is not a JSON object');
          i += 1;
          this.state = State.KeyOrEnd;
          break;
        }
        case State.KeyOrEnd: {
          i = this.skipSpace(buf, i);
          if (i >= buf.length) break;
          if (buf[i] === QUOTE) {
            this.tokenStart = i;
            this.inString = true;
            this.state = State.Key;
            i += 1;
          } else if (buf[i] === CLOSE_OBJECT && !this.expectMember) {
            this.state = State.Done;
            i += 1;
          } else throw new JsonStreamError(`unexpected ${this.describe(buf, i)} where a member name was expected`);
          break;
        }
        case State.Key: {
          const end = this.scanString(buf, i);
          if (end < 0) {
            i = buf.length;
            break;
          }
          this.currentKeyJson = buf.toString('utf8', this.tokenStart, end);
          this.currentKey = parseOrThrow(this.currentKeyJson, 'a member name') as string;
          this.tokenStart = -1;
          this.state = State.Colon;
          i = end;
          break;
        }
        case State.Colon: {
          i = this.skipSpace(buf, i);
          if (i >= buf.length) break;
          if (buf[i] !== COLON) throw new JsonStreamError(`unexpected ${this.describe(buf, i)} after a member name`);
          i += 1;
          this.state = State.Value;
          break;
        }
        case State.Value: {
          i = this.skipSpace(buf, i);
          if (i >= buf.length) break;
          if (this.currentKey === this.arrayKey && buf[i] === OPEN_ARRAY) {
            this.arraySeen = true;
            this.expectMember = false;
            this.state = State.ElementOrEnd;
            i += 1;
          } else {
            this.tokenStart = i;
            this.depth = 0;
            this.inString = false;
            this.state = State.SkipValue;
          }
          break;
        }
        case State.SkipValue: {
          const end = this.scanValue(buf, i);
          if (end < 0) {
            i = buf.length;
            break;
          }
          this.members.push(`${this.currentKeyJson}:${buf.toString('utf8', this.tokenStart, end)}`);
          this.tokenStart = -1;
          this.state = State.AfterValue;
          i = end;
          break;
        }
        case State.AfterValue: {
          i = this.skipSpace(buf, i);
          if (i >= buf.length) break;
          if (buf[i] === COMMA) {
            this.expectMember = true;
            this.state = State.KeyOrEnd;
          } else if (buf[i] === CLOSE_OBJECT) this.state = State.Done;
          else throw new JsonStreamError(`unexpected ${this.describe(buf, i)} after a member`);
          i += 1;
          break;
        }
        case State.ElementOrEnd: {
          i = this.skipSpace(buf, i);
          if (i >= buf.length) break;
          if (buf[i] === CLOSE_ARRAY) {
            if (this.expectMember) throw new JsonStreamError('a comma before the end of the array');
            this.state = State.AfterValue;
            i += 1;
          } else {
            this.tokenStart = i;
            this.depth = 0;
            this.inString = false;
            this.state = State.Element;
          }
          break;
        }
        case State.Element: {
          const end = this.scanValue(buf, i);
          if (end < 0) {
            i = buf.length;
            break;
          }
          completed.push([this.tokenStart, end]);
          this.tokenStart = -1;
          this.state = State.AfterElement;
          i = end;
          break;
        }
        case State.AfterElement: {
          i = this.skipSpace(buf, i);
          if (i >= buf.length) break;
          if (buf[i] === COMMA) {
            this.expectMember = true;
            this.state = State.ElementOrEnd;
          } else if (buf[i] === CLOSE_ARRAY) this.state = State.AfterValue;
          else throw new JsonStreamError(`unexpected ${this.describe(buf, i)} between array elements`);
          i += 1;
          break;
        }
        case State.Done: {
          i = this.skipSpace(buf, i);
          if (i < buf.length)
            throw new JsonStreamError(`unexpected ${this.describe(buf, i)} after the end of the JSON`);
          break;
        }
      }
    }

    const result = this.sliceBlock(buf, completed);
    if (this.tokenStart >= 0) {
      if (buf.length - this.tokenStart > this.maxTokenBytes) {
        throw new JsonStreamError(`a value in the body is larger than ${this.maxTokenBytes} bytes`);
      }
      // Copy, so the chunk the caller passed in is not kept alive by a view into it.
      this.pending = Buffer.from(buf.subarray(this.tokenStart));
      this.resumeAt = buf.length - this.tokenStart;
      this.tokenStart = 0;
    } else {
      this.pending = Buffer.alloc(0);
      this.resumeAt = 0;
    }
    return result;
  }

  /** After the last chunk: the object's other members. Throws if the JSON ended early. */
  end(): Record<string, unknown> {
    if (this.state !== State.Done) throw new JsonStreamError('the body ended before its JSON was complete (truncated)');
    return parseOrThrow(`{${this.members.join(',')}}`, 'the members around the array') as Record<string, unknown>;
  }

  private sliceBlock(buf: Buffer, completed: Array<[number, number]>): ElementBlock {
    if (completed.length === 0) return EMPTY_BLOCK;
    const first = completed[0]?.[0] ?? 0;
    const last = completed[completed.length - 1]?.[1] ?? 0;
    const ranges = new Uint32Array(completed.length * 2);
    // The brackets make the block one JSON text, so it is parsed without another copy.
    const shift = 1 - first;
    completed.forEach(([start, end], index) => {
      ranges[index * 2] = start + shift;
      ranges[index * 2 + 1] = end + shift;
    });
    // A copy, so that neither the chunk nor the parser's buffer is kept alive by the block.
    const bytes = Buffer.allocUnsafe(last - first + 2);
    bytes[0] = OPEN_ARRAY;
    buf.copy(bytes, 1, first, last);
    bytes[bytes.length - 1] = CLOSE_ARRAY;
    return { bytes, ranges };
  }

  private skipSpace(buf: Buffer, from: number): number {
    let i = from;
    while (i < buf.length && isSpace(buf[i])) i += 1;
    return i;
  }

  /** From inside a string (after its opening quote): the index after its closing quote, or -1. */
  private scanString(buf: Buffer, from: number): number {
    let i = from;
    for (;;) {
      const quote = buf.indexOf(QUOTE, i);
      if (quote < 0) return -1;
      let backslashes = 0;
      for (let k = quote - 1; k >= 0 && buf[k] === BACKSLASH; k -= 1) backslashes += 1;
      if (backslashes % 2 === 0) {
        this.inString = false;
        return quote + 1;
      }
      i = quote + 1;
    }
  }

  /** Scans one JSON value from `tokenStart`, resuming at `from`: the index after it, or -1 when more bytes are needed. */
  private scanValue(buf: Buffer, from: number): number {
    let i = from;
    const first = buf[this.tokenStart];
    if (first !== OPEN_OBJECT && first !== OPEN_ARRAY && first !== QUOTE) {
      // A scalar (number, true, false, null) ends at the next delimiter.
      while (i < buf.length) {
        const byte = buf[i];
        if (byte === COMMA || byte === CLOSE_ARRAY || byte === CLOSE_OBJECT || isSpace(byte)) {
          if (i === this.tokenStart)
            throw new JsonStreamError(`unexpected ${this.describe(buf, i)} where a value was expected`);
          return i;
        }
        i += 1;
      }
      return -1;
    }
    if (i === this.tokenStart && first === QUOTE) {
      this.inString = true;
      i += 1;
    }
    while (i < buf.length) {
      if (this.inString) {
        const end = this.scanString(buf, i);
        if (end < 0) return -1;
        i = end;
        if (this.depth === 0) return i;
        continue;
      }
      const byte = buf[i];
      if (byte === QUOTE) this.inString = true;
      else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) this.depth += 1;
      else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
        this.depth -= 1;
        if (this.depth === 0) return i + 1;
      }
      i += 1;
    }
    return -1;
  }

  private describe(buf: Buffer, at: number): string {
    return JSON.stringify(buf.toString('utf8', at, Math.min(buf.length, at + 12)));
  }
}
