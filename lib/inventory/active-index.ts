import * as z from 'zod/mini';
import { awsErrorName } from '../aws/aws-errors.js';
import { MAX_OBJECT_BYTES, ObjectTooLargeError } from '../aws/object-body.js';
import { readIndexObject } from '../aws/s3-objects.js';
import { indexSettings } from '../core/settings.js';
import { issuesMessage } from '../core/zod-issues.js';
import { type RemoteSession, SESSION_COLUMNS } from '../sessions/remote-session.js';

/** The one object `index-sessions` writes and terminations and `GET /sessions?active=true` read. */
export const INDEX_KEY = 'index/active-sessions.json';
/** A termination must not wait on a slow bucket: without the index in this time, the live list decides. */
const INDEX_READ_TIMEOUT_MS = 3_000;
/** Clocks disagree a little; an index listed further in the future than this is not believed. */
const CLOCK_SKEW_MS = 60_000;

export interface EndedSession extends RemoteSession {
  /** When the indexer first saw it ended (PAM's own times carry no time zone). */
  seen_ended_at: string;
}

export interface ActiveIndex {
  version: 1;
  /**
   * When PAM was last asked for what this index holds: a full list, or a refresh by lookup (the new
   * sessions above highest_id, and each active one again). Its age is measured from here.
   */
  listed_at: string;
  /** How long the last full list took. */
  list_duration_ms: number;
  /** When the last full list was requested; absent in an index written before refreshes: listed_at. */
  full_listed_at?: string;
  /** The highest numeric session id seen: sessions opened since have higher ones. Null when none was numeric. */
  highest_id?: number | null;
  /** The lookups of refreshes in the current minute: the budget INDEX_MAX_LOOKUPS_PER_MINUTE applies to. */
  lookup_window?: { started_at: string; lookups: number };
  /** Records in the last full list, plus the sessions found opened since: the PAM Core's whole history. */
  history_size: number;
  malformed: number;
  /** Every active session, normalised as `GET /sessions` shows it, in session_id order. */
  active: RemoteSession[];
  /** Sessions seen ending in the last 24 hours. */
  recently_ended: EndedSession[];
}

/** Every field of a normalised session that is text or null (session_id, active and device_port are checked apart). */
const TEXT_FIELDS = SESSION_COLUMNS.filter((column) => !['session_id', 'active', 'device_port'].includes(column));

/**
 * Whether an entry has the shape of a normalised session. Checked by hand, not with zod: a cold
 * termination reads an index of a few thousand sessions before its DELETE (zod took ~5 µs each).
 */
function isSession(value: unknown, ended: boolean): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  if (typeof entry.session_id !== 'string' || entry.session_id === '' || typeof entry.active !== 'boolean')
    return false;
  if (entry.device_port !== null && typeof entry.device_port !== 'number') return false;
  if (ended && (typeof entry.seen_ended_at !== 'string' || Number.isNaN(Date.parse(entry.seen_ended_at)))) return false;
  return TEXT_FIELDS.every((field) => entry[field] === null || typeof entry[field] === 'string');
}

const indexSchema = z.object({
  version: z.literal(1),
  listed_at: z.iso.datetime(),
  list_duration_ms: z.number().check(z.nonnegative()),
  full_listed_at: z.optional(z.iso.datetime()),
  highest_id: z.optional(z.nullable(z.number().check(z.int(), z.nonnegative()))),
  lookup_window: z.optional(
    z.object({ started_at: z.iso.datetime(), lookups: z.number().check(z.int(), z.nonnegative()) }),
  ),
  history_size: z.number().check(z.nonnegative()),
  malformed: z.number().check(z.nonnegative()),
  active: z.array(z.unknown()),
  recently_ended: z.array(z.unknown()),
});

/** The index as read, with what its readers look things up by. */
export interface IndexView {
  index: ActiveIndex;
  active: Map<string, RemoteSession>;
  ended: Map<string, EndedSession>;
}

export type IndexReading =
  | { usable: true; view: IndexView; ageMs: number }
  /** Missing, stale, corrupted or unreadable: the live list decides instead. */
  | { usable: false; reason: string; view?: IndexView };

/** The index object is there but is not one: what is wrong with it. */
export class CorruptIndexError extends Error {
  override readonly name = 'CorruptIndexError';
}

/** Parses and checks the index's text. */
export function parseActiveIndex(text: string): IndexView {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CorruptIndexError('it is not valid JSON', { cause: error });
  }
  const parsed = indexSchema.safeParse(json);
  if (!parsed.success) {
    const problem = issuesMessage(parsed.error, { subject: (path) => `${path.join('.')}: `, firstOnly: true });
    throw new CorruptIndexError(problem);
  }
  const bad = parsed.data.active.findIndex((entry) => !isSession(entry, false));
  if (bad >= 0) throw new CorruptIndexError(`active.${bad}: not a session`);
  const badEnded = parsed.data.recently_ended.findIndex((entry) => !isSession(entry, true));
  if (badEnded >= 0) throw new CorruptIndexError(`recently_ended.${badEnded}: not a session`);
  const index = parsed.data as ActiveIndex;
  return {
    index,
    active: new Map(index.active.map((session) => [session.session_id, session])),
    ended: new Map(index.recently_ended.map((session) => [session.session_id, session])),
  };
}

/** How old the index is; an index from the future (a wrong clock, a forged object) is taken as infinitely old. */
export function indexAgeMs(index: ActiveIndex, now = Date.now()): number {
  const age = now - Date.parse(index.listed_at);
  return age < -CLOCK_SKEW_MS ? Number.POSITIVE_INFINITY : Math.max(0, age);
}

/** The copy this container read last, and its ETag: while it is unchanged, S3 answers 304 and nothing is parsed. */
let cached: { etag: string; view: IndexView; bucket: string } | undefined;
/** The bucket whose index a termination decided from a held copy: revalidated after its DELETE. */
let recheck: string | undefined;
/** When the held copy was last confirmed by S3 (asked again at most every INDEX_RECHECK_SECONDS). */
let confirmedAt = 0;

async function fetchIndex(bucket: string): Promise<IndexView> {
  const known = cached?.bucket === bucket ? cached : undefined;
  try {
    const object = await readIndexObject(bucket, INDEX_KEY, {
      ...(known ? { ifNoneMatch: known.etag } : {}),
      timeoutMs: INDEX_READ_TIMEOUT_MS,
    });
    const view = parseActiveIndex(object.body);
    cached = object.etag ? { etag: object.etag, view, bucket } : undefined;
    confirmedAt = Date.now();
    return view;
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (known && (status === 304 || awsErrorName(error) === 'NotModified')) {
      confirmedAt = Date.now();
      return known.view;
    }
    cached = undefined;
    throw error;
  }
}

/** Forgets this container's copy of the index (tests, or when it must be read again at once). */
export function forgetCachedIndex(): void {
  cached = undefined;
  recheck = undefined;
}

/**
 * After the DELETE: asks S3 whether the held copy is still the current index (a conditional GET,
 * 304 when it is), at most every INDEX_RECHECK_SECONDS (10), so the next request decides from the
 * newest one.
 */
export async function indexRefreshed(): Promise<void> {
  const bucket = recheck;
  recheck = undefined;
  if (bucket === undefined || Date.now() - confirmedAt < indexSettings().recheckMs) return;
  await fetchIndex(bucket).catch(() => undefined);
}

function judged(view: IndexView, maxAgeMs: number, now: number): IndexReading {
  const ageMs = indexAgeMs(view.index, now);
  if (ageMs <= maxAgeMs) return { usable: true, view, ageMs };
  const reason = Number.isFinite(ageMs)
    ? `the index was listed ${Math.round(ageMs / 1000)} s ago, more than INDEX_MAX_AGE_SECONDS (${maxAgeMs / 1000})`
    : `the index says it was listed in the future (${view.index.listed_at}); it is not believed`;
  return { usable: false, reason, view };
}

/**
 * The copy this container holds, when it is still fresh enough to decide: no request and no wait
 * before the DELETE (indexRefreshed() revalidates it after). Undefined otherwise: readActiveIndex reads.
 */
export function heldActiveIndex(now = Date.now): Extract<IndexReading, { usable: true }> | undefined {
  const { bucket, maxAgeMs } = indexSettings();
  if (!bucket || cached?.bucket !== bucket) return undefined;
  const held = judged(cached.view, maxAgeMs, now());
  if (!held.usable) return undefined;
  recheck = bucket;
  return held;
}

/**
 * The active-session index, if it can decide: present, readable, well-formed and no older than
 * INDEX_MAX_AGE_SECONDS. A copy this container holds that is still that fresh decides at once, with
 * no request before the DELETE; indexRefreshed() revalidates it after. Never throws; otherwise it
 * says why not.
 */
export async function readActiveIndex(now = Date.now): Promise<IndexReading> {
  const { bucket, maxAgeMs } = indexSettings();
  if (!bucket) return { usable: false, reason: 'no inventory bucket is set (EXPORT_BUCKET)' };
  const held = heldActiveIndex(now);
  if (held) return held;
  let view: IndexView;
  try {
    view = await fetchIndex(bucket);
  } catch (error) {
    const name = awsErrorName(error) ?? 'unknown error';
    if (name === 'NoSuchKey') return { usable: false, reason: `s3://${bucket}/${INDEX_KEY} does not exist yet` };
    if (error instanceof CorruptIndexError) {
      return { usable: false, reason: `s3://${bucket}/${INDEX_KEY} is corrupted: ${error.message}` };
    }
    if (error instanceof ObjectTooLargeError) {
      const reason = `s3://${bucket}/${INDEX_KEY} is over ${MAX_OBJECT_BYTES} bytes: not an index index-sessions wrote`;
      return { usable: false, reason };
    }
    return { usable: false, reason: `s3://${bucket}/${INDEX_KEY} could not be read: ${name}` };
  }
  return judged(view, maxAgeMs, now());
}
