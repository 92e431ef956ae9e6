import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkRecord,
  checkStatusRecord,
  decodeRecord,
  encodeRecord,
  isSaneTime,
  type ReadingRecord,
  TIME_MAX,
  TIME_MIN,
} from '../src/index.ts';

const record: ReadingRecord = {
  v: 1,
  gatewayId: 'gw-1',
  gatewaySeq: 42,
  deviceId: 'dev-1',
  session: 7,
  seq: 3,
  time: 1_763_787_600_000,
  receivedAt: 1_763_787_600_012,
  metrics: { temperature: { value: 21.5, unit: 'Cel' } },
};

describe('reading record', () => {
  it('round-trips through JSON', () => {
    expect(decodeRecord(encodeRecord(record))).toEqual({ ok: true, record });
    expect(decodeRecord(Buffer.from(encodeRecord(record)))).toEqual({ ok: true, record });
  });

  it('rejects non-JSON with a reason', () => {
    const r = decodeRecord('{nope');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe('RECORD_NOT_JSON');
  });

  it('rejects an unknown schema version', () => {
    const r = decodeRecord(JSON.stringify({ ...record, v: 2 }));
    expect(r).toMatchObject({ ok: false, code: 'RECORD_VERSION' });
  });

  it('names the offending field', () => {
    const r = decodeRecord(JSON.stringify({ ...record, deviceId: 'bad id with spaces' }));
    expect(r).toMatchObject({ ok: false, code: 'RECORD_INVALID' });
    if (!r.ok) expect(r.reason).toContain('/deviceId');
  });

  it('requires at least one metric and numeric values', () => {
    expect(decodeRecord(JSON.stringify({ ...record, metrics: {} })).ok).toBe(false);
    const bad = { ...record, metrics: { t: { value: 'hot' } } };
    expect(decodeRecord(JSON.stringify(bad)).ok).toBe(false);
  });

  it('refuses a metric name outside the id pattern, whatever its value', () => {
    // Such names used to pass with any value (null, a string): a null one then stopped the
    // hub's partition at every retry of its batch.
    for (const metrics of [
      { 'bad name': { value: 1 } },
      { t: { value: 1 }, ['x'.repeat(65)]: { value: 1 } },
      { é: null },
      { ok: { value: 1 }, '': 5 },
    ]) {
      const r = decodeRecord(JSON.stringify({ ...record, metrics }));
      expect(r).toMatchObject({ ok: false, code: 'RECORD_INVALID' });
      if (!r.ok) expect(r.reason).toContain('/metrics/');
    }
    expect(
      decodeRecord(JSON.stringify({ ...record, metrics: { 'a.b_c-1': { value: 1 } } })).ok,
    ).toBe(true);
  });

  it("decides every parsed value exactly as the schema's compiled check does", () => {
    // decodeRecord checks JSON.parse's plain objects with a written-out check first; it must
    // agree with the full one (checkRecord) on anything a producer can send.
    const junk = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined));
    const or = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 12, arbitrary: good }, junk);
    const int = (min: number, max: number) =>
      fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min, max }) },
        fc.constantFrom(min - 1, max + 1, min + 0.5),
      );
    const id = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('gw-1', 'a.b_c-9', '__proto__', 'x'.repeat(64)) },
      fc.constantFrom('x'.repeat(65), '', 'a b', 'é'),
      fc.string({ maxLength: 3 }),
    );
    const value = or(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()));
    const unit = or(fc.string({ maxLength: 34 }));
    const metric = or(
      fc.oneof(
        { weight: 6, arbitrary: fc.record({ value, unit }, { requiredKeys: ['value'] }) },
        fc.record({ value, unit, extra: fc.integer() }, { requiredKeys: [] }),
      ),
    );
    const metrics = or(
      fc.oneof(
        { weight: 5, arbitrary: fc.dictionary(id, metric, { minKeys: 0, maxKeys: 3 }) },
        fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), fc.record({ value: fc.integer() }), {
          minKeys: 63,
          maxKeys: 66,
        }),
      ),
    );
    const time = or(int(TIME_MIN, TIME_MAX - 1));
    const reading = fc.record(
      {
        v: fc.oneof({ weight: 12, arbitrary: fc.constant(1) }, fc.constant(2), junk),
        gatewayId: or(id),
        gatewaySeq: or(int(1, 2 ** 53)),
        deviceId: or(id),
        site: or(id),
        session: or(int(0, 0xffffffff)),
        seq: or(int(0, 0xffff)),
        time,
        receivedAt: time,
        deviceTime: or(fc.double()),
        metrics,
        other: fc.jsonValue({ maxDepth: 1 }),
      },
      {
        requiredKeys: ['v', 'gatewayId', 'gatewaySeq', 'deviceId', 'time', 'receivedAt', 'metrics'],
      },
    );
    let valid = 0;
    fc.assert(
      fc.property(fc.oneof({ weight: 9, arbitrary: reading }, junk), (v) => {
        const text = JSON.stringify(v) ?? 'null';
        const decoded = decodeRecord(text);
        expect(decoded).toEqual(checkRecord(JSON.parse(text)));
        if (decoded.ok) valid += 1;
      }),
      { numRuns: 5000 },
    );
    expect(valid).toBeGreaterThan(100); // both answers, not only refusals
  });

  it('treats null (a tombstone) as invalid', () => {
    expect(decodeRecord(null).ok).toBe(false);
  });
});

describe('record times', () => {
  it('refuses times outside 2000-01-01 .. 2100-01-01, in time and receivedAt', () => {
    for (const time of [
      0,
      1000,
      TIME_MIN - 1,
      TIME_MAX,
      9_007_199_254_740_991,
      1e300,
      1.5e12 + 0.5,
    ]) {
      expect(decodeRecord(JSON.stringify({ ...record, time })).ok, String(time)).toBe(false);
      expect(decodeRecord(JSON.stringify({ ...record, receivedAt: time })).ok).toBe(false);
    }
    expect(decodeRecord(JSON.stringify({ ...record, time: TIME_MIN })).ok).toBe(true);
    expect(decodeRecord(JSON.stringify({ ...record, time: TIME_MAX - 1 })).ok).toBe(true);
    expect(isSaneTime(TIME_MAX - 1) && !isSaneTime(TIME_MAX) && !isSaneTime(Number.NaN)).toBe(true);
  });

  it('keeps a restamped reading’s device time', () => {
    const restamped = { ...record, deviceTime: 0 };
    expect(decodeRecord(JSON.stringify(restamped))).toEqual({ ok: true, record: restamped });
  });
});

describe('gateway status record', () => {
  const status = { kind: 'gateway-status', gatewayId: 'gw-1', time: record.time, extra: { a: 1 } };
  it('accepts a status with fields the hub does not read', () => {
    expect(checkStatusRecord(status).ok).toBe(true);
  });
  it('refuses a status time out of range, null, or a bad gateway id', () => {
    expect(checkStatusRecord({ ...status, time: 9e15 }).ok).toBe(false);
    expect(checkStatusRecord({ ...status, time: null }).ok).toBe(false);
    expect(checkStatusRecord({ ...status, gatewayId: 'a b' })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('/gatewayId'),
    });
  });
});
