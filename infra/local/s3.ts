import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface S3StandIn {
  /** Point the AWS SDK here with AWS_ENDPOINT_URL_S3. */
  url: string;
  bucket: string;
  close(): Promise<void>;
}

/** A real S3-protocol server (s3rver) on loopback, storing objects in a temporary folder. */
export async function startS3StandIn(options: { bucket: string; port?: number }): Promise<S3StandIn> {
  const directory = mkdtempSync(join(tmpdir(), 'pam-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: options.port ?? 0, silent: true, directory, configureBuckets: [{ name: options.bucket }] });
  const { port } = await server.run();
  return {
    url: `http://127.0.0.1:${port}`,
    bucket: options.bucket,
    close: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
