import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { closeServer, listenOnLoopback } from './loopback-server.js';

export interface S3StandIn {
  /** Point the AWS SDK here with AWS_ENDPOINT_URL_S3. */
  url: string;
  bucket: string;
  /** Multipart uploads that were aborted (s3rver lacks AbortMultipartUpload; the stand-in answers it). */
  aborted: Array<{ key: string; uploadId: string }>;
  /** From now on, answers the next `count` UploadPart requests with S3's 500 InternalError (0: none). */
  failUploadParts(count: number): void;
  /**
   * From now on, holds every request of these methods for a key under `prefix` for `ms` before it
   * is passed on (0: none), and records when each was answered: as a slow S3 would.
   */
  holdRequests(hold: { prefix: string; ms: number; methods: string[] }): void;
  /** When each held request was answered (epoch ms), by method. */
  heldAnsweredAt: Array<{ method: string; at: number }>;
  /** Empties the bucket, and stops holding reads: a test starts without an index, exports or termination records. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real S3-protocol server (s3rver) on loopback, storing objects in a temporary folder, behind a
 * small proxy that answers AbortMultipartUpload (which s3rver does not implement) and records it.
 */
export async function startS3StandIn(options: { bucket: string; port?: number }): Promise<S3StandIn> {
  const directory = mkdtempSync(join(tmpdir(), 'pam-s3-'));
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: options.bucket }],
  });
  const { port: s3rverPort } = await s3rver.run();
  const aborted: S3StandIn['aborted'] = [];
  let partFailures = 0;
  let held = { prefix: '', ms: 0, methods: [] as string[] };
  const heldAnsweredAt: S3StandIn['heldAnsweredAt'] = [];

  const proxy = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://s3');
    const uploadId = url.searchParams.get('uploadId');
    if (req.method === 'DELETE' && uploadId !== null) {
      aborted.push({ key: decodeURIComponent(url.pathname.split('/').slice(2).join('/')), uploadId });
      req.resume();
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'PUT' && url.searchParams.has('partNumber') && partFailures > 0) {
      partFailures -= 1;
      req.resume();
      res.writeHead(500, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>',
      );
      return;
    }
    const key = decodeURIComponent(url.pathname.split('/').slice(2).join('/'));
    const method = req.method ?? '';
    const hold = held.ms > 0 && held.methods.includes(method) && key.startsWith(held.prefix);
    const pass = () => {
      const upstream = request(
        { host: '127.0.0.1', port: s3rverPort, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          if (hold) answer.on('end', () => heldAnsweredAt.push({ method, at: Date.now() }));
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    if (hold) setTimeout(pass, held.ms);
    else pass();
  });
  const port = await listenOnLoopback(proxy, options.port);

  return {
    url: `http://127.0.0.1:${port}`,
    bucket: options.bucket,
    aborted,
    failUploadParts(count) {
      partFailures = count;
    },
    holdRequests(hold) {
      held = hold;
    },
    heldAnsweredAt,
    async clear() {
      held = { prefix: '', ms: 0, methods: [] };
      heldAnsweredAt.length = 0;
      s3rver.reset();
      await s3rver.configureBuckets();
    },
    close: async () => {
      await closeServer(proxy);
      await s3rver.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
