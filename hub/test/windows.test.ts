import type { ReadingRecord } from '@iot-stream/contracts';
import { describe, expect, it } from 'vitest';
import { RecentIds } from '../src/windows/recent-ids.ts';
import { type Aggregate, aggregateKey } from '../src/windows/window-state.ts';
import { TumblingWindows } from '../src/windows/windows.ts';
import { mulberry32 } from './support/synthetic.ts';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const MIN = 60_000;
const HOUR = 3_600_000;

function rec(over: Partial<ReadingRecord> & { time: number; gatewaySeq: number }): ReadingRecord {
  return {
    v: 1,
    gatewayId: 'gw-1',
    deviceId: 'dev-1',
    receivedAt: over.time,
    metrics: { temperature: { value: 20, unit: 'Cel' } },
    ...over,
  };
}

function engine(over: Partial<ConstructorParameters<typeof TumblingWindows>[0]> = {}) {
  return new TumblingWindows({
    sizesMs: [MIN, HOUR],
    maxOutOfOrdernessMs: 5_000,
    allowedLatenessMs: 2 * MIN,
    ...over,
  });
}

/** The newest version of each window among everything emitted. */
function latest(emitted: Aggregate[]): Map<string, Aggregate> {
  const out = new Map<string, Aggregate>();
  for (const a of emitted) out.set(aggregateKey(a), a);
  return out;
}

describe('tumbling windows', () => {
  it('aligns windows to the epoch in UTC', () => {
    const w = engine();
    w.add(rec({ time: T0 + 34 * MIN + 56_789, gatewaySeq: 1 }));
    const open = w.openAggregates();
    expect(open.map((a) => [a.windowMs, a.start, a.end])).toEqual([
      [MIN, T0 + 34 * MIN, T0 + 35 * MIN],
      [HOUR, T0, T0 + HOUR],
    ]);
    expect(open.every((a) => !a.final)).toBe(true);
  });

  it('finalises a window once the watermark (newest - out-of-orderness) passes its end', () => {
    const w = engine({ sizesMs: [MIN] });
    expect(w.add(rec({ time: T0 + 30_000, gatewaySeq: 1 })).aggregates).toEqual([]);
    expect(w.add(rec({ time: T0 + MIN + 4_999, gatewaySeq: 2 })).aggregates).toEqual([]);
    const closed = w.add(rec({ time: T0 + MIN + 5_000, gatewaySeq: 3 })).aggregates;
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ start: T0, count: 1, final: true, revision: 0 });
    expect(w.watermark('dev-1')).toBe(T0 + MIN);
  });

  it('computes count, min, max, mean, sample stddev and last exactly like a naive recomputation', () => {
    const rand = mulberry32(7);
    const w = engine({ maxOutOfOrdernessMs: 0 });
    const records: ReadingRecord[] = [];
    let time = T0;
    for (let i = 0; i < 3_000; i += 1) {
      time += Math.floor(rand() * 20_000);
      const deviceId = rand() < 0.5 ? 'a' : 'b';
      const metrics = { t: { value: Math.round(rand() * 1e4) / 100 }, h: { value: rand() * 100 } };
      records.push(rec({ deviceId, time, gatewaySeq: i + 1, metrics }));
    }
    const emitted: Aggregate[] = [];
    for (const r of records) emitted.push(...w.add(r).aggregates);
    emitted.push(...w.closeUpTo(time + HOUR));
    const got = latest(emitted);
    const naive = new Map<string, ReadingRecord[]>();
    for (const r of records) {
      for (const metric of Object.keys(r.metrics)) {
        for (const size of [MIN, HOUR]) {
          const start = Math.floor(r.time / size) * size;
          const key = aggregateKey({ deviceId: r.deviceId, metric, windowMs: size, start });
          naive.set(key, [...(naive.get(key) ?? []), r]);
        }
      }
    }
    expect([...got.keys()].sort()).toEqual([...naive.keys()].sort());
    for (const [key, rs] of naive) {
      const a = got.get(key) as Aggregate;
      const values = rs.map((r) => r.metrics[a.metric]?.value as number);
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const variance =
        values.length > 1
          ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1)
          : 0;
      expect(a.count).toBe(values.length);
      expect(a.min).toBe(Math.min(...values));
      expect(a.max).toBe(Math.max(...values));
      expect(a.mean).toBeCloseTo(mean, 9);
      expect(a.stddev).toBeCloseTo(Math.sqrt(variance), 9);
      expect(a.last).toBe(values.at(-1));
      expect(a.lastTime).toBe(rs.at(-1)?.time);
      expect(a.final).toBe(true);
    }
  });

  it('lets a late reading within the allowed lateness correct its window under the same key', () => {
    const w = engine({ sizesMs: [MIN] });
    w.add(rec({ time: T0 + 10_000, gatewaySeq: 1, metrics: { t: { value: 1 } } }));
    const first = w.add(
      rec({ time: T0 + MIN + 30_000, gatewaySeq: 2, metrics: { t: { value: 5 } } }),
    );
    expect(first.aggregates).toMatchObject([{ start: T0, count: 1, mean: 1, revision: 0 }]);
    const late = w.add(rec({ time: T0 + 20_000, gatewaySeq: 3, metrics: { t: { value: 3 } } }));
    expect(late.late).toBe(true);
    expect(late.tooLate).toBeUndefined();
    expect(late.aggregates).toHaveLength(1);
    const fixed = late.aggregates[0] as Aggregate;
    expect(aggregateKey(fixed)).toBe(aggregateKey(first.aggregates[0] as Aggregate));
    expect(fixed).toMatchObject({ count: 2, min: 1, max: 3, mean: 2, last: 3, revision: 1 });
    expect(fixed.stddev).toBeCloseTo(Math.SQRT2, 12);
    expect(w.counters).toMatchObject({ late: 1, corrections: 1 });
  });

  it('counts a reading beyond the allowed lateness and hands it back for the dead-letter topic', () => {
    const w = engine({ sizesMs: [MIN] });
    w.add(rec({ time: T0 + 10_000, gatewaySeq: 1, metrics: { t: { value: 1 } } }));
    w.add(rec({ time: T0 + 10 * MIN, gatewaySeq: 2, metrics: { t: { value: 1 } } }));
    const r = w.add(rec({ time: T0 + 20_000, gatewaySeq: 3, metrics: { t: { value: 99 } } }));
    expect(r.tooLate).toMatchObject({ code: 'TOO_LATE', watermark: T0 + 10 * MIN - 5_000 });
    expect(r.tooLate?.lateByMs).toBe(10 * MIN - 5_000 - 20_000);
    expect(r.aggregates).toEqual([]);
    expect(w.counters.tooLate).toBe(1);
    // It changed nothing: a window it belonged to is not reopened.
    expect(w.openAggregates().some((a) => a.max === 99)).toBe(false);
  });

  it('ignores duplicates by (gatewayId, gatewaySeq) and by the device session and seq', () => {
    const w = engine({ sizesMs: [MIN] });
    w.add(rec({ time: T0, gatewaySeq: 1, session: 7, seq: 1 }));
    expect(w.add(rec({ time: T0, gatewaySeq: 1, session: 7, seq: 1 })).duplicate).toBe(true);
    // The same device reading resent through another gateway.
    const other = rec({ time: T0, gatewaySeq: 50, gatewayId: 'gw-2', session: 7, seq: 1 });
    expect(w.add(other).duplicate).toBe(true);
    // A new boot reuses seq 1: a different session, not a duplicate.
    expect(w.add(rec({ time: T0 + 1, gatewaySeq: 2, session: 8, seq: 1 })).duplicate).toBe(false);
    // Without a session the event time is part of the id.
    expect(w.add(rec({ time: T0 + 2, gatewaySeq: 3, seq: 1 })).duplicate).toBe(false);
    expect(w.add(rec({ time: T0 + 3, gatewaySeq: 4, seq: 1 })).duplicate).toBe(false);
    expect(w.counters.duplicates).toBe(2);
    expect(w.openAggregates()[0]?.count).toBe(4);
  });

  it('forgets the oldest ids first, so the dedup set stays bounded', () => {
    const w = engine({ sizesMs: [MIN], dedupRecordsPerDevice: 4 });
    for (let i = 1; i <= 10; i += 1) w.add(rec({ time: T0 + i, gatewaySeq: i }));
    expect(w.add(rec({ time: T0 + 10, gatewaySeq: 10 })).duplicate).toBe(true);
    expect(w.add(rec({ time: T0 + 1, gatewaySeq: 1 })).duplicate).toBe(false);
    expect(w.snapshot().devices[0]?.packedIds?.prefix.length).toBeLessThanOrEqual(8);
  });

  it('holds only the ids of records not yet too late: a repeat past that is too late, not counted twice', () => {
    // Lateness 2 min + out-of-orderness 5 s: a device every 10 s keeps its last ~13 records'
    // ids (two each), not the capacity's 256 records.
    const w = engine({ sizesMs: [MIN] });
    const at = (i: number) => rec({ time: T0 + i * 10_000, gatewaySeq: i, seq: i % 65_536 });
    for (let i = 0; i < 720; i += 1) expect(w.add(at(i)).duplicate).toBe(false); // 2 hours
    const held = w.snapshot().devices[0]?.packedIds?.prefix.length ?? 0;
    expect(held).toBeGreaterThanOrEqual(2 * 13);
    expect(held).toBeLessThanOrEqual(2 * 14 + 2);
    // A repeat still within the lateness: recognised, the windows unchanged.
    const recent = w.add(at(710));
    expect(recent.duplicate).toBe(true);
    expect(recent.aggregates).toEqual([]);
    // A repeat of one past it: refused as too late (stored raw again, the same point), never
    // aggregated a second time.
    const old = w.add(at(600));
    expect(old.duplicate).toBe(false);
    expect(old.tooLate).toBeDefined();
    expect(old.aggregates).toEqual([]);
    expect(w.counters.duplicates).toBe(1);
    // The times come back with a checkpoint: the restored engine forgets exactly alike.
    const restored = engine({ sizesMs: [MIN] });
    restored.restore(JSON.parse(JSON.stringify(w.snapshot())));
    for (let i = 720; i < 800; i += 1) {
      w.add(at(i));
      restored.add(at(i));
    }
    expect(restored.snapshot()).toEqual(w.snapshot());
  });

  it('evicts the least recently active device, flushing its open windows as final', () => {
    const w = engine({ sizesMs: [MIN], maxDevices: 2 });
    w.add(rec({ deviceId: 'a', time: T0, gatewaySeq: 1 }));
    w.add(rec({ deviceId: 'b', time: T0, gatewaySeq: 2 }));
    w.add(rec({ deviceId: 'a', time: T0 + 1, gatewaySeq: 3 }));
    const r = w.add(rec({ deviceId: 'c', time: T0, gatewaySeq: 4 }));
    expect(r.aggregates).toMatchObject([{ deviceId: 'b', count: 1, final: true }]);
    expect(w.counters.evictedDevices).toBe(1);
    expect(w.watermark('b')).toBeNull();
  });

  it('caps open windows per device, finalising the one that ends first', () => {
    const w = engine({ sizesMs: [MIN], maxWindowsPerDevice: 2, maxOutOfOrdernessMs: HOUR });
    w.add(rec({ time: T0, gatewaySeq: 1 }));
    w.add(rec({ time: T0 + MIN, gatewaySeq: 2 }));
    const r = w.add(rec({ time: T0 + 2 * MIN, gatewaySeq: 3 }));
    expect(r.aggregates).toMatchObject([{ start: T0, final: true }]);
    // A reading for the evicted window can no longer reopen (and overwrite) it.
    expect(w.add(rec({ time: T0 + 5, gatewaySeq: 4 })).aggregates).toEqual([]);
    expect(w.counters).toMatchObject({ evictedWindows: 1, sealedSkips: 1 });
  });

  it('closes the windows of a silent device on request', () => {
    const w = engine();
    w.add(rec({ time: T0 + 5 * MIN, gatewaySeq: 1 }));
    expect(w.closeUpTo(T0 + 6 * MIN)).toMatchObject([{ windowMs: MIN, start: T0 + 5 * MIN }]);
    expect(w.closeUpTo(T0 + HOUR)).toMatchObject([{ windowMs: HOUR, start: T0 }]);
    expect(w.closeUpTo(T0 + 2 * HOUR)).toEqual([]);
  });

  it('closes the windows of a device silent for idleMs, whatever its clock offset', () => {
    const w = engine({ sizesMs: [MIN], maxOutOfOrdernessMs: 5_000 });
    const skew = -3 * HOUR; // the device clock is three hours behind the gateway's
    w.add(rec({ time: T0 + skew + 10_000, receivedAt: T0 + 10_000, gatewaySeq: 1 }));
    w.add(rec({ deviceId: 'busy', time: T0 + 10_000, gatewaySeq: 2 }));
    expect(w.closeIdle(T0 + 60_000, 2 * MIN)).toEqual([]);
    w.add(rec({ deviceId: 'busy', time: T0 + 2 * MIN, gatewaySeq: 3 }));
    const closed = w.closeIdle(T0 + 10_000 + 2 * MIN, 2 * MIN);
    expect(closed).toMatchObject([{ deviceId: 'dev-1', start: T0 + skew, count: 1 }]);
    // The device's event time moved on by the two minutes that passed, no more.
    expect(w.watermark('dev-1')).toBe(T0 + skew + 10_000 + 2 * MIN - 5_000);
  });

  it('continues identically after snapshot and restore (through JSON)', () => {
    const rand = mulberry32(3);
    const records = Array.from({ length: 2_000 }, (_, i) =>
      rec({
        deviceId: `d${Math.floor(rand() * 5)}`,
        time: T0 + i * 1_500 - Math.floor(rand() * 200_000),
        gatewaySeq: rand() < 0.05 ? Math.max(1, i - 3) : i + 1,
        metrics: { t: { value: rand() } },
      }),
    );
    const straight = engine({ maxDevices: 4 });
    const outA = records.map((r) => straight.add(r));
    const first = engine({ maxDevices: 4 });
    const outB = records.slice(0, 900).map((r) => first.add(r));
    const resumed = engine({ maxDevices: 4 });
    resumed.restore(JSON.parse(JSON.stringify(first.snapshot())));
    outB.push(...records.slice(900).map((r) => resumed.add(r)));
    expect(outB).toEqual(outA);
    expect(resumed.snapshot()).toEqual(straight.snapshot());
    // A checkpoint from before 2026-12-05 (the ids as strings) goes on alike.
    const legacy = JSON.parse(JSON.stringify(first.snapshot()));
    for (const d of legacy.devices) {
      d.ids = RecentIds.restore(256, d.packedIds).snapshot();
      delete d.packedIds;
    }
    const held = legacy.devices.map((d: { ids: string[] }) => d.ids.length);
    expect(held.reduce((n: number, k: number) => n + k, 0)).toBeGreaterThanOrEqual(10);
    const fromLegacy = engine({ maxDevices: 4 });
    fromLegacy.restore(legacy);
    expect(records.slice(900).map((r) => fromLegacy.add(r))).toEqual(outA.slice(900));
    expect(fromLegacy.snapshot()).toEqual(straight.snapshot());
  });

  it('refuses a snapshot of the wrong shape with a stable code', () => {
    expect(() => engine().restore({ v: 2 })).toThrow(
      expect.objectContaining({ code: 'STATE_INVALID' }),
    );
    const w = engine();
    w.add(rec({ time: T0, gatewaySeq: 1 }));
    const broken = JSON.parse(JSON.stringify(w.snapshot()));
    broken.devices[0].packedIds.prefix[0] = 7; // no such prefix
    expect(() => engine().restore(broken)).toThrow(
      expect.objectContaining({ code: 'STATE_INVALID' }),
    );
  });
});
