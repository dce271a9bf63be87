import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type S3StandIn, startS3StandIn } from '../../infra/local/s3.js';
import type { ActiveIndex } from '../../lib/inventory/active-index.js';

// How a container reads the active-session index and holds its copy, over a real S3-protocol server
// (s3rver), in-process: no handler, no PAM.
let s3: S3StandIn;
let activeIndex: typeof import('../../lib/inventory/active-index.js');
let putS3Object: typeof import('../../lib/aws/s3-objects.js').putS3Object;
const BUCKET = 'inventory-reading';
const OTHER_BUCKET = 'inventory-other';
const KEY = 'index/active-sessions.json';

beforeAll(async () => {
  s3 = await startS3StandIn({ bucket: BUCKET });
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_ENDPOINT_URL_S3: s3.url,
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  // The S3 client reads its endpoint once, when its module loads.
  activeIndex = await import('../../lib/inventory/active-index.js');
  ({ putS3Object } = await import('../../lib/aws/s3-objects.js'));
});

afterAll(async () => {
  vi.useRealTimers();
  await s3.close();
});

beforeEach(async () => {
  vi.useRealTimers();
  activeIndex.forgetCachedIndex();
  await s3.clear();
  // Held for 1 ms only to be counted: each GET of the index is recorded when it is answered.
  s3.holdRequests({ prefix: 'index/', ms: 1, methods: ['GET'] });
  Object.assign(process.env, { EXPORT_BUCKET: BUCKET, INDEX_MAX_AGE_SECONDS: '600', INDEX_RECHECK_SECONDS: '10' });
});

const gets = () => s3.heldAnsweredAt.filter(({ method }) => method === 'GET').length;

function index(listedAt: number, sessionIds: string[] = ['7']): ActiveIndex {
  return {
    version: 1,
    listed_at: new Date(listedAt).toISOString(),
    list_duration_ms: 10,
    history_size: sessionIds.length,
    malformed: 0,
    active: sessionIds.map((session_id) => ({
      id: null,
      session_id,
      user: 'jsilva',
      origin_ip: null,
      credential: 'root',
      device: 'db:1521',
      protocol: 'ssh',
      proxy: null,
      start: null,
      end: null,
      time: null,
      prevent_purge: null,
      request: null,
      ITSM: null,
      active: true,
      device_host: 'db',
      device_port: 1521,
    })),
    recently_ended: [],
  };
}

const put = (body: string, bucket = BUCKET) =>
  putS3Object(bucket, KEY, body, { contentType: 'application/json', timeoutMs: 5_000 });

const reason = async (now?: () => number) => {
  const reading = await activeIndex.readActiveIndex(now);
  return reading.usable ? undefined : reading.reason;
};

describe('readActiveIndex: when the index cannot decide, and why', () => {
  it('without a bucket', async () => {
    delete process.env.EXPORT_BUCKET;
    expect(await reason()).toBe('no inventory bucket is set (EXPORT_BUCKET)');
  });

  it('before the first index is written', async () => {
    expect(await reason()).toBe(`s3://${BUCKET}/${KEY} does not exist yet`);
  });

  it('when it is not an index', async () => {
    await put('{"version": 1');
    expect(await reason()).toBe(`s3://${BUCKET}/${KEY} is corrupted: it is not valid JSON`);
  });

  it('when S3 cannot give it', async () => {
    process.env.EXPORT_BUCKET = 'no-such-bucket';
    expect(await reason()).toBe(`s3://no-such-bucket/${KEY} could not be read: NoSuchBucket`);
  });

  it('when it is older than INDEX_MAX_AGE_SECONDS, or listed in the future', async () => {
    const listed = Date.now();
    await put(JSON.stringify(index(listed)));
    expect(await reason(() => listed + 600_000)).toBeUndefined();
    activeIndex.forgetCachedIndex();
    expect(await reason(() => listed + 600_001)).toBe(
      'the index was listed 600 s ago, more than INDEX_MAX_AGE_SECONDS (600)',
    );
    activeIndex.forgetCachedIndex();
    expect(await reason(() => listed - 60_001)).toBe(
      `the index says it was listed in the future (${new Date(listed).toISOString()}); it is not believed`,
    );
  });
});

describe("readActiveIndex: the container's copy", () => {
  it('decides from a held copy still fresh enough without asking S3', async () => {
    await put(JSON.stringify(index(Date.now())));
    const first = await activeIndex.readActiveIndex();
    expect(first.usable).toBe(true);
    expect(gets()).toBe(1);
    const second = await activeIndex.readActiveIndex();
    expect(second.usable && first.usable && second.view).toBe(first.usable && first.view);
    expect(gets()).toBe(1);
  });

  it('asks S3 whether a held copy too old is still current (304: kept, nothing parsed), and reads a new one', async () => {
    const listed = Date.now();
    await put(JSON.stringify(index(listed)));
    const first = await activeIndex.readActiveIndex();
    const late = () => listed + 700_000;
    const unchanged = await activeIndex.readActiveIndex(late);
    expect(gets()).toBe(2);
    expect(unchanged.view).toBe(first.usable ? first.view : undefined);

    await put(JSON.stringify(index(listed, ['7', '8'])));
    const changed = await activeIndex.readActiveIndex(late);
    expect(gets()).toBe(3);
    expect(changed.view).not.toBe(unchanged.view);
    expect([...(changed.view?.active.keys() ?? [])]).toEqual(['7', '8']);
  });

  it('drops a held copy whose object is gone: only a 304 keeps it', async () => {
    const listed = Date.now();
    await put(JSON.stringify(index(listed)));
    await activeIndex.readActiveIndex();
    const { s3: client } = await import('../../lib/aws/s3-client.js');
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: KEY }));
    expect(await reason(() => listed + 700_000)).toBe(`s3://${BUCKET}/${KEY} does not exist yet`);
  });

  it("never takes one bucket's copy for another's, even when the objects are the same", async () => {
    const { s3: client } = await import('../../lib/aws/s3-client.js');
    const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
    await client.send(new CreateBucketCommand({ Bucket: OTHER_BUCKET }));
    const text = JSON.stringify(index(Date.now()));
    await put(text);
    await put(text, OTHER_BUCKET);
    const first = await activeIndex.readActiveIndex();
    process.env.EXPORT_BUCKET = OTHER_BUCKET;
    const other = await activeIndex.readActiveIndex();
    expect(other.usable).toBe(true);
    expect(other.view).not.toBe(first.usable ? first.view : undefined);
  });
});

describe('indexRefreshed', () => {
  it('after a decision from a held copy, asks S3 again once INDEX_RECHECK_SECONDS have passed, not before', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    await put(JSON.stringify(index(Date.now())));
    await activeIndex.readActiveIndex();
    const confirmed = Date.now();
    await activeIndex.readActiveIndex();
    vi.setSystemTime(confirmed + 9_999);
    await activeIndex.indexRefreshed();
    expect(gets()).toBe(1);

    await activeIndex.readActiveIndex();
    vi.setSystemTime(confirmed + 10_000);
    await activeIndex.indexRefreshed();
    expect(gets()).toBe(2);
    // Once per decision: nothing held was decided from since.
    await activeIndex.indexRefreshed();
    expect(gets()).toBe(2);
  });

  it('asks nothing when no decision was made from a held copy', async () => {
    process.env.INDEX_RECHECK_SECONDS = '0';
    await put(JSON.stringify(index(Date.now())));
    await activeIndex.readActiveIndex();
    await activeIndex.indexRefreshed();
    expect(gets()).toBe(1);
  });
});
