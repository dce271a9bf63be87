import { pathToFileURL } from 'node:url';
import { createOAuth1Signer, type OAuth1Credentials } from '../../lib/pam/oauth1.js';

/**
 * One measured run in a fresh process, so its peak RSS is its own: `baseline` is fetch + JSON.parse
 * of the whole list; `export` is the export bundle's handler. Prints one JSON line of results.
 */
const mode = process.argv[2];
let started = performance.now();
let detail: Record<string, unknown>;

if (mode === 'baseline') {
  const url = `${process.env.BENCH_PAM_URL}/api/session/remotesessions`;
  const credentials = JSON.parse(process.env.BENCH_PAM_CREDENTIALS ?? '') as OAuth1Credentials;
  const response = await fetch(url, {
    headers: { authorization: createOAuth1Signer(credentials)({ method: 'GET', url }) },
  });
  const text = await response.text();
  const body = JSON.parse(text) as { remote_sessions: unknown[] };
  detail = { sessions: body.remote_sessions.length, bytes: Buffer.byteLength(text) };
} else {
  const bundle = pathToFileURL(process.env.BENCH_EXPORT_BUNDLE ?? '').href;
  const { handler } = (await import(bundle)) as {
    handler: (event: unknown, context: unknown) => Promise<{ counts: { total: number } }>;
  };
  // Loading the bundle is the cold start, measured elsewhere; the baseline loads nothing either.
  started = performance.now();
  const summary = await handler(
    {},
    { awsRequestId: 'bench', functionName: 'export', getRemainingTimeInMillis: () => 900_000 },
  );
  detail = { sessions: summary.counts.total };
}
const seconds = (performance.now() - started) / 1000;
const usage = process.resourceUsage();
console.log(
  JSON.stringify({
    ...detail,
    seconds,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    peakRssMB: usage.maxRSS / 1024,
  }),
);
