import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import {
  looksActive,
  normaliseRemoteSession,
  type RemoteSession,
  splitDevice,
} from '../../lib/sessions/remote-session.js';
import { vendorSessionRecord } from '../support/fixtures.js';

function normalised(raw: unknown): RemoteSession {
  const result = normaliseRemoteSession(raw);
  if (!result.ok) throw new Error(result.reason);
  return result.session;
}

describe('normaliseRemoteSession', () => {
  it('keeps the vendor names and adds active, device_host and device_port', () => {
    expect(normalised(vendorSessionRecord)).toEqual({
      ...vendorSessionRecord,
      active: false,
      device_host: '10.66.33.15',
      device_port: 3389,
    });
  });

  it('reads the older Portuguese field names', () => {
    const { credential, device, ...rest } = vendorSessionRecord;
    const session = normalised({ ...rest, credencial: credential, dispositivo: device });
    expect(session).toMatchObject({
      credential: 'usrdomadm01',
      device: '10.66.33.15:3389',
      device_host: '10.66.33.15',
    });
    expect(session).not.toHaveProperty('credencial');
    expect(session).not.toHaveProperty('dispositivo');
  });

  it.each([
    [null, true],
    [undefined, true],
    ['', true],
    ['0000-00-00 00:00:00', true],
    ['  ', true],
    [' 0000-00-00 00:00:00 ', true],
    ['2024-05-06 16:07:59', false],
  ])('treats end %j as active=%s', (end, active) => {
    const record: Record<string, unknown> = { ...vendorSessionRecord, end };
    if (end === undefined) delete record.end;
    expect(normalised(record).active).toBe(active);
  });

  it('keeps the request and ITSM references PAM gives', () => {
    expect(normalised({ ...vendorSessionRecord, request: 'REQ-4411', ITSM: 'CHG0031' })).toMatchObject({
      request: 'REQ-4411',
      ITSM: 'CHG0031',
    });
  });

  it('accepts numbers where other versions send strings', () => {
    expect(normalised({ ...vendorSessionRecord, id: 3 })).toMatchObject({ id: '3' });
  });

  it('drops unknown fields without failing the record', () => {
    const session = normalised({ ...vendorSessionRecord, tenant_id: 7, recording: { url: 'x' } });
    expect(session).not.toHaveProperty('tenant_id');
    expect(session).not.toHaveProperty('recording');
  });

  it.each([
    [{ ...vendorSessionRecord, session_id: undefined }, 'session_id'],
    [{ ...vendorSessionRecord, session_id: '' }, 'session_id'],
    [{ ...vendorSessionRecord, user: { name: 'x' } }, 'user'],
    ['not a record', 'record'],
    [null, 'record'],
  ])('reports a malformed record: %j', (raw, where) => {
    const result = normaliseRemoteSession(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(where);
  });

  // The rules as a zod schema: the oracle the hand-written (fast) normaliser must agree with.
  const scalar = z.union([z.string(), z.number(), z.boolean()]);
  const optionalText = z.pipe(
    z.nullish(scalar),
    z.transform((value) => (value === undefined || value === null ? null : String(value))),
  );
  // No decision depends on these three: any other shape is kept as its JSON text.
  const lenientText = z.union([
    optionalText,
    z.pipe(
      z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]),
      z.transform((value) => JSON.stringify(value)),
    ),
  ]);
  const lenient = ['prevent_purge', 'request', 'ITSM'];
  const fields = [
    'id',
    'user',
    'origin_ip',
    'credential',
    'credencial',
    'device',
    'dispositivo',
    'protocol',
    'proxy',
    'start',
    'end',
    'time',
    ...lenient,
  ];
  const oracle = z.object({
    session_id: z.pipe(z.pipe(scalar, z.transform(String)), z.string().check(z.minLength(1))),
    ...Object.fromEntries(fields.map((field) => [field, lenient.includes(field) ? lenientText : optionalText])),
  });

  it('accepts and rejects exactly what the zod oracle does, with the same values', () => {
    const value = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.object({ maxDepth: 1 }),
      fc.array(fc.nat(), { maxLength: 2 }),
    );
    const record = fc.dictionary(fc.constantFrom('session_id', ...fields, 'extra'), value, { maxKeys: 8 });
    fc.assert(
      fc.property(record, (raw) => {
        const expected = oracle.safeParse(raw);
        const result = normaliseRemoteSession(raw);
        expect(result.ok).toBe(expected.success);
        if (result.ok && expected.success) {
          const want = expected.data as Record<string, string | null>;
          expect(result.session).toMatchObject({
            session_id: want.session_id,
            user: want.user,
            credential: want.credential ?? want.credencial,
            device: want.device ?? want.dispositivo,
            end: want.end,
            ITSM: want.ITSM,
          });
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws, whatever PAM sends', () => {
    fc.assert(
      fc.property(fc.anything(), (raw) => {
        const result = normaliseRemoteSession(raw);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });
});

describe('splitDevice', () => {
  it.each([
    ['10.66.33.15:3389', '10.66.33.15', 3389],
    ['db-prod-01.corp.example:22', 'db-prod-01.corp.example', 22],
    ['[2001:db8::10]:22', '2001:db8::10', 22],
    ['[2001:db8::10]', '2001:db8::10', null],
    ['2001:db8::10', '2001:db8::10', null],
    ['fileserver', 'fileserver', null],
    ['10.0.0.1:99999', '10.0.0.1', null],
    ['10.0.0.1:0', '10.0.0.1', null],
    ['10.0.0.1:65535', '10.0.0.1', 65535],
    ['x[2001:db8::10]:22', 'x[2001:db8::10]:22', null],
    ['[2001:db8::10]:22x', '[2001:db8::10]:22x', null],
    ['   ', null, null],
    ['  10.0.0.1:22 ', '10.0.0.1', 22],
    ['', null, null],
    [null, null, null],
  ])('splits %j', (device, host, port) => {
    expect(splitDevice(device)).toEqual({ host, port });
  });
});

describe('looksActive (the first look at a record as PAM sent it)', () => {
  it.each([
    [{}, true],
    [{ end: null }, true],
    [{ end: '' }, true],
    [{ end: '  ' }, true],
    [{ end: ' 0000-00-00 00:00:00 ' }, true],
    [{ end: '2024-05-06 16:07:59' }, false],
    [{ end: 20240506 }, false],
  ])('%j looks active: %s', (record, active) => {
    expect(looksActive(record)).toBe(active);
  });
});
