/**
 * Records everything written to stdout and stderr (Powertools Logger writes there) while printing
 * nothing. One recording per test file: test/support/scan-output.ts starts it for every file, and a
 * file's own captureOutput() reads the same recording.
 */
const recorded: string[] = [];
const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const;
let original:
  | {
      out: typeof process.stdout.write;
      err: typeof process.stderr.write;
      console: Record<(typeof CONSOLE_METHODS)[number], (...args: unknown[]) => void>;
    }
  | undefined;

export function captureOutput() {
  if (!original) {
    original = {
      out: process.stdout.write.bind(process.stdout),
      err: process.stderr.write.bind(process.stderr),
      console: Object.fromEntries(CONSOLE_METHODS.map((method) => [method, console[method]])) as NonNullable<
        typeof original
      >['console'],
    };
    const record = (chunk: unknown) => {
      recorded.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return true;
    };
    process.stdout.write = record as typeof process.stdout.write;
    process.stderr.write = record as typeof process.stderr.write;
    // Vitest routes console output around process.stdout: record it as well.
    for (const method of CONSOLE_METHODS)
      console[method] = (...args: unknown[]) => record(`${args.map(String).join(' ')}\n`);
  }
  // The scan of test/support/scan-output.ts ends the recording.
  return { text: () => recorded.join('') };
}

/** The JSON log lines in `text` whose message is `message`. */
export function logLinesSaying(text: string, message: string): Array<Record<string, any>> {
  return text
    .split('\n')
    .filter((line) => line.includes(`"message":"${message}"`))
    .map((line) => JSON.parse(line) as Record<string, any>);
}

export function stopCapturing(): string {
  if (original) {
    process.stdout.write = original.out;
    process.stderr.write = original.err;
    for (const method of CONSOLE_METHODS) console[method] = original.console[method];
    original = undefined;
  }
  return recorded.join('');
}

/** What `run` resolved to, and the JSON lines (Powertools logs, EMF metrics) written meanwhile. */
export async function jsonLinesWritten<T>(
  run: () => Promise<T>,
): Promise<{ result: T; lines: Array<Record<string, unknown>> }> {
  const output = captureOutput();
  const before = output.text().length;
  const result = await run();
  const lines = output
    .text()
    .slice(before)
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { result, lines };
}
