import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext, listEvent } from '../../infra/local/lambda-events.js';
import { type LocalPam, startLocalPam } from '../../infra/local/local-pam.js';
import { generateSessions, type SimulatedSession, seedSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { emfRecords } from '../support/emf.js';
import { type Handler, loadHandler } from '../support/handlers.js';
import { asJson } from '../support/json-result.js';
import { captureOutput } from '../support/output-capture.js';

let local: LocalPam;
let exportHandler: Handler;
let list: Handler;
let s3: S3Client;
const output = captureOutput();

// What EventBridge Scheduler's classic schedule rule delivers to the function.
const scheduledEvent = {
  version: '0',
  id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-11-23T02:00:00Z',
  region: 'us-east-1',
  resources: [
    'arn:aws:events:us-east-1:123456789012:rule/pam-session-responder-dev-ExportEventsRuleSchedule1-1A2B3C4D5E6F',
  ],
  detail: {},
};

beforeAll(async () => {
  local = await startLocalPam();
  Object.assign(process.env, local.env, { PAM_RETRY_BASE_DELAY_MS: '5' });
  s3 = new S3Client({});
  // The export runs worker threads from a file the build puts beside the handler: test the bundle.
  exportHandler = await loadHandler('export', 'bundle');
  list = await loadHandler('list');
});

afterAll(async () => {
  await local.close();
});

function serve(sessions: SimulatedSession[]) {
  local.pam.sessions.length = 0;
  for (const session of sessions) local.pam.sessions.push(session);
  local.pam.sessionsChanged();
}

beforeEach(() => {
  serve(seedSessions());
  local.pam.clearFaults();
  local.eventBridge.events.length = 0;
});

afterEach(() => {
  delete process.env.EXPORT_FORMAT;
  delete process.env.EXPORT_PART_SIZE_MIB;
});

async function objectKeys(): Promise<string[]> {
  const listing = await s3.send(new ListObjectsV2Command({ Bucket: local.s3.bucket, Prefix: 'remote-sessions/' }));
  return (listing.Contents ?? []).map((object) => object.Key ?? '');
}

async function readObject(key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: local.s3.bucket, Key: key }));
  return gunzipSync(await (object.Body?.transformToByteArray() ?? new Uint8Array())).toString('utf8');
}

describe('the inventory export', () => {
  it('writes gzip JSON Lines under a dt= partition, normalised exactly as list answers', async () => {
    const summary = await exportHandler(scheduledEvent, lambdaContext({ remainingMs: 60_000 }));
    expect(summary.key).toMatch(
      /^remote-sessions\/dt=\d{4}-\d{2}-\d{2}\/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\.jsonl\.gz$/,
    );
    expect(summary.key.slice(19, 29)).toBe(summary.exported_at.slice(0, 10));
    expect(summary.s3_uri).toBe(`s3://pam-session-inventory-local/${summary.key}`);

    const lines = (await readObject(summary.key))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    const listed = asJson(await list(listEvent(), lambdaContext())).body.sessions;
    expect(lines).toEqual(listed);
    expect(summary.counts).toEqual({
      total: 12,
      active: listed.filter((session: { active: boolean }) => session.active).length,
      malformed: 0,
      by_protocol: { rdp: 4, ssh: 6, https: 2 },
    });
  });

  it('publishes the summary on EventBridge', async () => {
    const summary = await exportHandler({}, lambdaContext({ remainingMs: 60_000 }));
    expect(local.eventBridge.events).toEqual([
      expect.objectContaining({
        source: 'pam.session-responder',
        'detail-type': 'PAM Session Inventory Exported',
        detail: summary,
      }),
    ]);
    expect(summary.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('writes CSV with a header row when EXPORT_FORMAT=csv', async () => {
    process.env.EXPORT_FORMAT = 'csv';
    const summary = await exportHandler({}, lambdaContext({ remainingMs: 60_000 }));
    expect(summary.key).toMatch(/\.csv\.gz$/);
    const rows = parseCsv(await readObject(summary.key), { columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(12);
    expect(Object.keys(rows[0] ?? {})).toEqual([
      'id',
      'session_id',
      'user',
      'origin_ip',
      'credential',
      'device',
      'protocol',
      'proxy',
      'start',
      'end',
      'time',
      'prevent_purge',
      'request',
      'ITSM',
      'active',
      'device_host',
      'device_port',
    ]);
    expect(rows.find((row) => row.user === 'mchen' && row.protocol === 'rdp')).toMatchObject({
      credential: 'CORP\\svc_sql',
      device_port: '3389',
      ITSM: 'CHG0041877',
    });
  });

  it('neutralises cells a spreadsheet would run as formulas', async () => {
    process.env.EXPORT_FORMAT = 'csv';
    serve([{ ...seedSessions()[0]!, user: '=HYPERLINK("http://evil.example","x")' }]);
    const summary = await exportHandler({}, lambdaContext({ remainingMs: 60_000 }));
    const [row] = parseCsv(await readObject(summary.key), { columns: true }) as Array<Record<string, string>>;
    expect(row?.user).toBe('\'=HYPERLINK("http://evil.example","x")');
  });

  it('counts and reports a malformed record mid-stream, and exports the rest', async () => {
    const sessions = seedSessions();
    sessions.splice(5, 0, { ...sessions[0]!, session_id: '' }, {
      ...sessions[0]!,
      user: { first: 'x' },
    } as unknown as SimulatedSession);
    serve(sessions);
    const summary = await exportHandler({}, lambdaContext({ remainingMs: 60_000 }));
    expect(summary.counts).toMatchObject({ total: 12, malformed: 2 });
    expect((await readObject(summary.key)).trimEnd().split('\n')).toHaveLength(12);
  });

  it('fails on a body that ends early and leaves no object behind', async () => {
    serve(generateSessions(3_000));
    local.pam.injectFault('list', { kind: 'truncate', afterBytes: 500_000 });
    const before = await objectKeys();
    await expect(exportHandler({}, lambdaContext({ remainingMs: 60_000 }))).rejects.toMatchObject({
      name: 'PamApiError',
      message: expect.stringMatching(/^PAM Core's session list broke off before its end \(ECONNRESET\)$/),
    });
    expect(await objectKeys()).toEqual(before);
    expect(local.eventBridge.events).toEqual([]);
  });

  it('fails on JSON that ends early even when the connection closes cleanly', async () => {
    const cut =
      '{"code":200,"response":{"status":200,"error":false,"error_code":0},"tenant":"Segura","remote_sessions":[{"session_id":"a1","user":"x"},{"session_id":"b2","us';
    local.pam.injectFault('list', { kind: 'status', status: 200, body: cut });
    const before = await objectKeys();
    await expect(exportHandler({}, lambdaContext({ remainingMs: 60_000 }))).rejects.toMatchObject({
      message: "PAM Core's session list is not valid JSON: the body ended before its JSON was complete (truncated)",
    });
    expect(await objectKeys()).toEqual(before);
  });

  it('fails when PAM answers an error envelope instead of the list, and writes nothing', async () => {
    const refusal = JSON.stringify({
      code: 500,
      response: { status: 500, message: 'Unexpected error.', error: true, error_code: 99 },
    });
    local.pam.injectFault('list', { kind: 'status', status: 200, body: refusal });
    const before = await objectKeys();
    await expect(exportHandler({}, lambdaContext({ remainingMs: 60_000 }))).rejects.toMatchObject({
      message: 'PAM Core answered HTTP 200 (error_code 99): Unexpected error.',
    });
    expect(await objectKeys()).toEqual(before);
  });

  it('aborts the multipart upload when the body is cut off mid-way, and leaves no object behind', async () => {
    process.env.EXPORT_PART_SIZE_MIB = '5';
    serve(generateSessions(250_000));
    local.pam.injectFault('list', { kind: 'truncate', afterBytes: 75_000_000 });
    const before = await objectKeys();
    local.s3.aborted.length = 0;
    await expect(exportHandler({}, lambdaContext({ remainingMs: 120_000 }))).rejects.toMatchObject({
      name: 'PamApiError',
    });
    expect(local.s3.aborted).toEqual([
      { key: expect.stringMatching(/^remote-sessions\/dt=.*\.jsonl\.gz$/), uploadId: expect.any(String) },
    ]);
    expect(await objectKeys()).toEqual(before);
  }, 60_000);
});

describe('the export metrics', () => {
  it('emits ExportDuration, ExportBytes (the object as written) and ExportSessions, as EMF under the service', async () => {
    const mark = output.text().length;
    const summary = await exportHandler(scheduledEvent, lambdaContext({ remainingMs: 60_000 }));
    const written = await s3.send(new HeadObjectCommand({ Bucket: local.s3.bucket, Key: summary.key }));
    expect(emfRecords(output.text().slice(mark))).toEqual([
      {
        namespace: 'PamSessionResponder',
        dimensions: [['service']],
        metrics: [
          { Name: 'ExportDuration', Unit: 'Milliseconds' },
          { Name: 'ExportBytes', Unit: 'Bytes' },
          { Name: 'ExportSessions', Unit: 'Count' },
        ],
        values: {
          service: 'pam-session-responder',
          ExportDuration: summary.duration_ms,
          ExportBytes: written.ContentLength,
          ExportSessions: 12,
        },
      },
    ]);
    expect(written.ContentLength).toBeGreaterThan(0);
  });

  it('emits none of them for an export that failed, only its error by code (its Errors alarm tells)', async () => {
    const refusal = JSON.stringify({ code: 500, response: { status: 500, message: 'Unexpected error.', error: true } });
    local.pam.injectFault('list', { kind: 'status', status: 200, body: refusal });
    const mark = output.text().length;
    await expect(exportHandler({}, lambdaContext({ remainingMs: 60_000 }))).rejects.toThrow('Unexpected error.');
    const records = emfRecords(output.text().slice(mark));
    expect(records.map((record) => [record.metrics.map((metric) => metric.Name), record.values.code])).toEqual([
      [['Errors'], 'pam_rejected'],
    ]);
  });
});

describe('S3 failing during the upload', () => {
  it('fails the export as storage_unavailable, aborts the multipart upload and leaves no object', async () => {
    process.env.EXPORT_PART_SIZE_MIB = '5';
    serve(generateSessions(120_000));
    const before = await objectKeys();
    local.s3.aborted.length = 0;
    // More failures than the SDK's own 3 attempts per part.
    local.s3.failUploadParts(12);
    await expect(exportHandler({}, lambdaContext({ remainingMs: 120_000 }))).rejects.toMatchObject({
      name: 'StorageUnavailableError',
      message: expect.stringMatching(/^S3 failed for bucket "pam-session-inventory-local": /),
    });
    expect(local.s3.aborted).toHaveLength(1);
    expect(await objectKeys()).toEqual(before);
    expect(local.eventBridge.events).toEqual([]);
    local.s3.failUploadParts(0);
  }, 60_000);
});

describe('what Athena reads', () => {
  // The Glue table's columns (serverless.yml), as Athena's JSON SerDe maps them: lower-cased names.
  const glueTypes: Record<string, 'string' | 'boolean' | 'int'> = {
    id: 'string',
    session_id: 'string',
    user: 'string',
    origin_ip: 'string',
    credential: 'string',
    device: 'string',
    protocol: 'string',
    proxy: 'string',
    start: 'string',
    end: 'string',
    time: 'string',
    prevent_purge: 'string',
    request: 'string',
    itsm: 'string',
    active: 'boolean',
    device_host: 'string',
    device_port: 'int',
  };

  it('writes every line as one JSON object whose fields are exactly the table columns, with their types', async () => {
    serve(generateSessions(2_000));
    const summary = await exportHandler({}, lambdaContext({ remainingMs: 60_000 }));
    const lines = (await readObject(summary.key)).split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(2_000);
    for (const line of lines) {
      const record = JSON.parse(line) as Record<string, unknown>;
      expect(
        Object.keys(record)
          .map((key) => key.toLowerCase())
          .sort(),
      ).toEqual(Object.keys(glueTypes).sort());
      for (const [key, value] of Object.entries(record)) {
        const type = glueTypes[key.toLowerCase()];
        if (value === null) continue;
        if (type === 'string') expect(typeof value).toBe('string');
        if (type === 'boolean') expect(typeof value).toBe('boolean');
        if (type === 'int') expect(Number.isInteger(value)).toBe(true);
      }
    }
  });
});

describe('GET /sessions?source=snapshot', () => {
  it('answers from the newest export, filtered, with its timestamp', async () => {
    await exportHandler({}, lambdaContext({ remainingMs: 60_000 }));
    serve(generateSessions(50));
    const newest = await exportHandler({}, lambdaContext({ remainingMs: 60_000 }));
    const { statusCode, body } = asJson(
      await list(listEvent({ source: 'snapshot', active: 'true', protocol: 'ssh' }), lambdaContext()),
    );
    expect(statusCode).toBe(200);
    expect(body.snapshot).toEqual({ exported_at: newest.exported_at, key: newest.key, s3_uri: newest.s3_uri });
    expect(body.source).toBe('snapshot');
    const expected = generateSessions(50).filter((session) => session.end === null && session.protocol === 'ssh');
    expect(body.sessions.map((session: { session_id: string }) => session.session_id)).toEqual(
      expected.map((session) => session.session_id),
    );
    expect(body.count).toBe(expected.length);
  });

  it('asks nothing of the PAM Core', async () => {
    await exportHandler({}, lambdaContext({ remainingMs: 60_000 }));
    local.pam.requests.length = 0;
    await list(listEvent({ source: 'snapshot' }), lambdaContext());
    expect(local.pam.requests).toHaveLength(0);
  });

  it('answers a snapshot larger than one response a page at a time, every session exactly once', async () => {
    serve(generateSessions(20_000));
    await exportHandler({}, lambdaContext({ remainingMs: 60_000 }));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const query: Record<string, string> = { source: 'snapshot', limit: '5000', ...(cursor ? { cursor } : {}) };
      const { statusCode, body } = asJson(await list(listEvent(query), lambdaContext()));
      expect(statusCode).toBe(200);
      expect(body.source).toBe('snapshot');
      seen.push(...body.sessions.map((session: { session_id: string }) => session.session_id));
      cursor = body.next ?? undefined;
      pages += 1;
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(4);
    expect(seen).toHaveLength(20_000);
    expect(new Set(seen).size).toBe(20_000);
  });

  it('refuses an unknown source', async () => {
    const { statusCode, body } = asJson(await list(listEvent({ source: 'cache' }), lambdaContext()));
    expect({ statusCode, body }).toEqual({
      statusCode: 400,
      body: { error: { code: 'invalid_request', message: 'source must be "live" or "snapshot"' } },
    });
  });
});

describe('a live list slower than API Gateway waits', () => {
  it('answers 504 and points to the snapshot', async () => {
    process.env.PAM_LIST_TIMEOUT_MS = '300';
    process.env.PAM_MAX_ATTEMPTS = '1';
    try {
      local.pam.injectFault('list', { kind: 'delay', ms: 1_000 });
      const { statusCode, body } = asJson(await list(listEvent({ active: 'true' }), lambdaContext()));
      expect(statusCode).toBe(504);
      expect(body.error).toEqual({
        code: 'pam_timeout',
        message:
          'PAM Core did not answer within 300 ms; the live list is too slow for this API: GET /sessions?active=true answers from the active-session index and GET /sessions?source=snapshot from the newest inventory export',
      });
    } finally {
      delete process.env.PAM_LIST_TIMEOUT_MS;
      delete process.env.PAM_MAX_ATTEMPTS;
    }
  });
});

describe('S3 refusing', () => {
  it('says which bucket does not exist, for the export and for snapshots', async () => {
    process.env.EXPORT_BUCKET = 'no-such-bucket';
    try {
      await expect(exportHandler({}, lambdaContext({ remainingMs: 60_000 }))).rejects.toMatchObject({
        name: 'ConfigurationError',
        message: 'Bucket "no-such-bucket" does not exist (check EXPORT_BUCKET)',
      });
      const { statusCode, body } = asJson(await list(listEvent({ source: 'snapshot' }), lambdaContext()));
      expect({ statusCode, code: body.error.code }).toEqual({ statusCode: 500, code: 'configuration_error' });
    } finally {
      process.env.EXPORT_BUCKET = local.s3.bucket;
    }
  });
});
