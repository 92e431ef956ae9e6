import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord, type ReadingRecord } from '../src/index.ts';

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

  it('treats null (a tombstone) as invalid', () => {
    expect(decodeRecord(null).ok).toBe(false);
  });
});
