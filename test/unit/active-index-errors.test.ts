import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ObjectTooLargeError } from '../../lib/aws/object-body.js';
import { forgetCachedIndex, INDEX_KEY, readActiveIndex } from '../../lib/inventory/active-index.js';

/** S3 as the index reader calls it: each read answers the next of these, or throws it. */
const s3 = vi.hoisted(() => ({ answers: [] as unknown[], reads: [] as Array<string | undefined> }));
vi.mock('../../lib/aws/s3-objects.js', async (original) => ({
  ...(await original<typeof import('../../lib/aws/s3-objects.js')>()),
  readIndexObject: async (_bucket: string, _key: string, options: { ifNoneMatch?: string }) => {
    s3.reads.push(options.ifNoneMatch);
    const next = s3.answers.shift();
    if (next instanceof Error || typeof next === 'string') throw next;
    return next;
  },
}));

const LISTED_AT = Date.parse('2026-12-07T10:00:00.000Z');
const indexObject = {
  etag: '"e1"',
  lastModified: new Date(LISTED_AT),
  body: JSON.stringify({
    version: 1,
    listed_at: new Date(LISTED_AT).toISOString(),
    list_duration_ms: 120,
    history_size: 0,
    malformed: 0,
    active: [],
    recently_ended: [],
  }),
};

beforeEach(() => {
  s3.answers.length = 0;
  s3.reads.length = 0;
  forgetCachedIndex();
  process.env.EXPORT_BUCKET = 'pam-inventory-123456789012';
  process.env.INDEX_MAX_AGE_SECONDS = '60';
});
afterEach(() => {
  delete process.env.EXPORT_BUCKET;
  delete process.env.INDEX_MAX_AGE_SECONDS;
});

describe('reading the index when S3 does not simply answer it', () => {
  it('takes a NotModified without a status for "the held copy is current", and judges its age', async () => {
    s3.answers.push(indexObject);
    expect(await readActiveIndex(() => LISTED_AT + 1_000)).toMatchObject({ usable: true });
    s3.answers.push(Object.assign(new Error('Not Modified'), { name: 'NotModified' }));
    expect(await readActiveIndex(() => LISTED_AT + 120_000)).toEqual({
      usable: false,
      reason: 'the index was listed 120 s ago, more than INDEX_MAX_AGE_SECONDS (60)',
      view: expect.objectContaining({ index: expect.objectContaining({ listed_at: '2026-12-07T10:00:00.000Z' }) }),
    });
    expect(s3.reads).toEqual([undefined, '"e1"']);
  });

  it('says an object over MAX_OBJECT_BYTES is not an index, rather than a failure to read it', async () => {
    s3.answers.push(new ObjectTooLargeError("S3's body is 70000000 bytes"));
    expect(await readActiveIndex()).toEqual({
      usable: false,
      reason: `s3://pam-inventory-123456789012/${INDEX_KEY} is over 67108864 bytes: not an index index-sessions wrote`,
    });
  });

  it('says "unknown error" for a failure without a name', async () => {
    s3.answers.push('socket closed');
    expect(await readActiveIndex()).toEqual({
      usable: false,
      reason: `s3://pam-inventory-123456789012/${INDEX_KEY} could not be read: unknown error`,
    });
  });
});
