import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ALL_PATHS,
  COMMON_BEHAVIOUR,
  type FaultPath,
  PAM_ACTED,
  PAM_FAULTS,
  PATHS,
  type PamFaultRow,
} from './pam-faults.js';

/** Faults outside the PAM Core, each proved by a named test elsewhere in the suite. */
const OTHER_FAULTS: Array<[fault: string, behaviour: string, test: string]> = [
  [
    'Secrets Manager throttles or fails',
    '503 `secrets_unavailable`; nothing sent to PAM',
    'test/unit/pam-secret.test.ts › tells throttling apart from misconfiguration',
  ],
  [
    'Secrets Manager does not answer',
    "503 `secrets_unavailable` after the Secrets Manager client's 3 attempts of 3 s; nothing sent to PAM",
    'test/integration/secret-timeout.integration.test.ts › gives up after 3 attempts of 3 s when Secrets Manager does not answer, and says so',
  ],
  [
    'Secrets Manager: access denied',
    '500 `configuration_error` naming the secret and the IAM role to check',
    'test/unit/pam-secret.test.ts › says when the role may not read it',
  ],
  [
    'Secrets Manager: secret missing',
    '500 `configuration_error` naming the secret',
    'test/integration/handlers.integration.test.ts › answers 500 when the secret does not exist',
  ],
  [
    'secret is not JSON',
    '500 `configuration_error`, the value never quoted',
    'test/unit/pam-secret.test.ts › says malformed JSON without quoting it',
  ],
  [
    'secret misses a key',
    '500 `configuration_error` naming the key; nothing sent to PAM',
    'test/integration/handlers.integration.test.ts › answers 500 naming the missing key when the secret is incomplete, and sends nothing',
  ],
  [
    'PAM refuses the credentials (401)',
    'the secret is read again once and the call retried once; then 502 `pam_unauthorized`',
    'test/integration/handlers.integration.test.ts › refuses a wrong signature, and says so after re-reading the secret once',
  ],
  [
    'the secret was rotated',
    'picked up after the 401, the call succeeds',
    'test/integration/handlers.integration.test.ts › picks up a rotated secret after PAM answers 401, and retries once',
  ],
  [
    'the secret stops parsing after a good read',
    'refused on every call until fixed; the previous connection is never used',
    'test/unit/pam-secret.test.ts › never answers with the previous connection once the secret has become unreadable',
  ],
  [
    'S3 refuses or drops the PUT of a termination record',
    "the S3 client's standard retries (3 attempts in all) after a 5xx, 429 or dropped connection, none after a 4xx; the termination itself stands, a warning is logged",
    'test/unit/terminated-markers.test.ts › tries three times in all when the connection drops, and does not fail the termination for it',
  ],
  [
    'an event naming sessions by id (no more than the cap), with S3 slow to answer the lookup of its records',
    "the DELETE is not held for them: it goes out at once, and the records settle PAM's refusal when they come (a match, or more ids than the cap, waits for them: a replay must not cut what the first handling did not)",
    "test/integration/active-index.integration.test.ts › an event's DELETE goes out before the records are read: a slow S3 does not hold the cut",
  ],
  [
    'EventBridge PutEvents: some entries refused',
    'only those entries are sent again (4 attempts, backoff)',
    'test/unit/audit-trail.test.ts › retries only the entries PutEvents reports as failed',
  ],
  [
    'EventBridge PutEvents: the whole call refused (throttling, a 5xx)',
    "thrown by the name EventBridge gives it and sent again with the audit's backoff",
    'test/unit/put-events.test.ts › throws a refused call by the name EventBridge gives it, and the audit retries it',
  ],
  [
    'EventBridge PutEvents fails entirely',
    'counted as not published; a termination request then throws so Lambda retries it',
    'test/unit/audit-trail.test.ts › reports what it could not publish after its retries, without throwing',
  ],
  [
    'S3: the bucket does not exist',
    '500 `configuration_error` naming the bucket (export and snapshot)',
    'test/integration/export.integration.test.ts › says which bucket does not exist, for the export and for snapshots',
  ],
  [
    "S3 fails during the upload (UploadPart answers 500, past the SDK's retries)",
    '`storage_unavailable`; the multipart upload is aborted, no object is left, no summary event',
    'test/integration/export.integration.test.ts › fails the export as storage_unavailable, aborts the multipart upload and leaves no object',
  ],
  [
    'the list breaks off while parts are being uploaded',
    'the multipart upload is aborted, no object is left',
    'test/integration/export.integration.test.ts › aborts the multipart upload when the body is cut off mid-way, and leaves no object behind',
  ],
  [
    'TLS: certificate from an unknown CA, or for another host',
    '502 `pam_tls`, not retried, saying to set `ca_certificate`',
    'test/integration/tls.integration.test.ts',
  ],
  [
    'the active-session index is missing, stale, corrupted, not an index, or says it was listed in the future',
    'logged and ignored: the live list decides (`resolved_from: live`)',
    'test/integration/active-index.integration.test.ts › an unusable index; an index that is wrong',
  ],
  [
    'PAM lists a session the index calls ended as open',
    'the live list decides: the session is matched and cut',
    'test/integration/active-index.integration.test.ts › does not hide a session it calls ended from a match, when the live list shows it open',
  ],
  [
    "the live list fails after the index's sessions were cut",
    'HTTP: 200 with what was done and `incomplete`; an event fails and is retried, finding those sessions ended',
    "test/integration/active-index.integration.test.ts › a live list that fails after the index's sessions were cut",
  ],
  [
    'the OAuth 2.0 token endpoint answers 503 or 429, or does not answer in time',
    "retried like any call, with backoff, never past the call's time; then 504 `pam_timeout`",
    'test/integration/oauth2.integration.test.ts › retries a token request the endpoint could not answer (503, 429), as any call, and goes on',
  ],
  [
    'a gateway echoes the Authorization header, a bearer token, OAuth parameters or a client secret',
    'removed (`[redacted]`) before the message reaches an error, a log or a response',
    'test/unit/pam-response.test.ts › never quotes %s a gateway echoes back',
  ],
  [
    'a matched session has an id that fails validation, or odd non-essential fields',
    'that session is `failed` (nothing sent), odd fields kept as JSON text; the others are terminated and audited',
    'test/integration/responder.integration.test.ts › gets its own failed outcome while the other targets are still terminated and audited',
  ],
  [
    'a request matches more sessions than the cap',
    'all `blocked`, one aggregated audit event, a notice on the alarm topic; an analyst may confirm over HTTP',
    'test/integration/responder.integration.test.ts › tells the alarm topic which request the cap blocked, and how to confirm it',
  ],
  [
    'the alarm topic cannot be reached',
    'logged; the termination and its audit go on',
    'test/unit/alarm-topic.test.ts › cannot be reached: logged, never thrown, so the termination and its audit go on',
  ],
];

const cell = (text: string) => text.replaceAll('|', '\\|');

/** The row's messages, the paths that show the same one together. */
function operatorReads(row: PamFaultRow): string {
  const byMessage = new Map<string, FaultPath[]>();
  for (const path of ALL_PATHS) {
    const read = row.reads[path];
    const text = read instanceof RegExp ? read.source.replace(/^\^|\$$/g, '').replace('\\d+', 'N') : read;
    byMessage.set(text, [...(byMessage.get(text) ?? []), path]);
  }
  if (byMessage.size === 1) return `"${[...byMessage.keys()][0]}"`;
  return [...byMessage].map(([text, paths]) => `${paths.join(', ')}: "${text}"`).join('; ');
}

/** docs/failure-modes.md, made from the same table test/integration/fault-matrix.test.ts runs. */
export function renderFailureModes(): string {
  const lines = [
    '# Failure modes',
    '',
    'Generated by `npm run docs` from `test/fault-matrix/pam-faults.ts`, the table `test/integration/fault-matrix.test.ts`',
    'runs (a test fails when this file no longer matches it). Every PAM fault row is tried on each of the four paths, with',
    'PAM_MAX_ATTEMPTS=3 and 250 ms timeouts (the export waits as long as its Lambda may run; the test gives it 1.2 s);',
    'each test checks the attempts made (fresh OAuth nonces on each), the error, the audit trail, that no other session was',
    'touched and that no export object was left.',
    '',
    '## The PAM Core misbehaving',
    '',
    '| fault | error code | HTTP API | attempts: list / drop / export | the operator reads |',
    '| --- | --- | --- | --- | --- |',
    ...PAM_FAULTS.map(
      (row) =>
        `| \`${row.id}\`: ${cell(row.fault)} | \`${row.code}\` | ${row.httpStatus} | ${row.attempts.list} / ${row.attempts.drop} / ${row.attempts.export} | ${cell(operatorReads(row))} |`,
    ),
    '',
    'On every path, besides that:',
    '',
    ...(Object.keys(PATHS) as FaultPath[]).map((path) => `- ${PATHS[path]}: ${COMMON_BEHAVIOUR[path]}.`),
    '',
    'Test: `test/integration/fault-matrix.test.ts › <fault> on <path>`; it checks each message above exactly.',
    '',
    '## PAM acting on the DELETE while the client cannot tell',
    '',
    'The session ended in PAM; the product must not report it `failed` (an event would be retried, an operator would',
    'try again). After the ambiguous drop it reads the list once more and finds the session no longer active.',
    '',
    '| fault | attempts | outcome (drop and match) | the operator reads (log, audit event, report) |',
    '| --- | --- | --- | --- |',
    ...PAM_ACTED.map(
      (row) => `| \`${row.id}\`: ${cell(row.fault)} | ${row.attempts} | \`${row.outcome}\` | "${cell(row.reads)}" |`,
    ),
    '',
    'Test: `test/integration/fault-matrix.test.ts › PAM acting on the DELETE while the client cannot tell`.',
    '',
    '## Everything else',
    '',
    '| fault | what happens | test |',
    '| --- | --- | --- |',
    ...OTHER_FAULTS.map(([fault, behaviour, test]) => `| ${cell(fault)} | ${cell(behaviour)} | ${cell(test)} |`),
    '',
  ];
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(new URL('../../docs/failure-modes.md', import.meta.url), renderFailureModes());
  console.log('docs/failure-modes.md written');
}
