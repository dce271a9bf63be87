import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPam, type LocalPam } from '../../infra/local/local-pam.js';
import { generateSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { lambdaContext } from '../support/lambda.js';
import { captureOutput } from '../support/output-capture.js';

type Handler = (event: unknown, context: unknown) => Promise<any>;

// The S3 side is a client mock here: s3rver does not implement AbortMultipartUpload.
const s3 = mockClient(S3Client);
let local: LocalPam;
let exportHandler: Handler;
const output = captureOutput();

beforeAll(async () => {
  local = await startLocalPam({ sessions: generateSessions(150_000) });
  Object.assign(process.env, local.env, { EXPORT_PART_SIZE_MIB: '5' });
  ({ handler: exportHandler } = (await import('../../functions/export.js')) as unknown as { handler: Handler });
});

afterAll(async () => {
  output.restore();
  delete process.env.EXPORT_PART_SIZE_MIB;
  await local.close();
});

describe('a list that breaks off during a multipart upload', () => {
  it('aborts the multipart upload and never completes it', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3.on(UploadPartCommand).callsFake(async (input: { PartNumber?: number }) => ({ ETag: `"etag-${input.PartNumber}"` }));
    s3.on(AbortMultipartUploadCommand).resolves({});
    local.pam.injectFault('list', { kind: 'truncate', afterBytes: 45_000_000 });

    await expect(exportHandler({}, lambdaContext({ remainingMs: 120_000 }))).rejects.toMatchObject({ name: 'PamApiError' });
    expect(s3.commandCalls(UploadPartCommand).length).toBeGreaterThan(0);
    expect(s3.commandCalls(AbortMultipartUploadCommand).map((call) => call.args[0].input)).toContainEqual(
      expect.objectContaining({ Bucket: local.s3.bucket, UploadId: 'upload-1' }),
    );
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  }, 60_000);
});
