import type { ReadingRecord } from '@iot-stream/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Aggregate, aggregateKey } from '../src/windows/window-state.ts';
import { TumblingWindows } from '../src/windows/windows.ts';

const T0 = Date.UTC(2026, 10, 22);
const OOO = 30_000;

function run(records: readonly ReadingRecord[]): Map<string, Aggregate> {
  const w = new TumblingWindows({
    sizesMs: [10_000, 60_000],
    maxOutOfOrdernessMs: OOO,
    allowedLatenessMs: 0,
  });
  const out = new Map<string, Aggregate>();
  const keep = (as: Aggregate[]) => {
    for (const a of as) out.set(aggregateKey(a), a);
  };
  for (const r of records) {
    const result = w.add(r);
    expect(result.late).toBe(false);
    keep(result.aggregates);
  }
  keep(w.closeUpTo(Number.MAX_SAFE_INTEGER / 2));
  return out;
}

const readings = fc.array(
  fc.record({
    device: fc.constantFrom('a', 'b'),
    gap: fc.integer({ min: 0, max: 8_000 }),
    value: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    delay: fc.integer({ min: 0, max: OOO }),
  }),
  { minLength: 1, maxLength: 200 },
);

describe('tumbling windows under reordering (property)', () => {
  it('shuffling within the out-of-orderness bound gives the same final aggregates', () => {
    fc.assert(
      fc.property(readings, (rs) => {
        let time = T0;
        const inOrder = rs.map((r, i) => {
          time += r.gap;
          const record: ReadingRecord = {
            v: 1,
            gatewayId: 'gw',
            gatewaySeq: i + 1,
            deviceId: r.device,
            time,
            receivedAt: time,
            metrics: { m: { value: r.value } },
          };
          return { record, arrival: time + r.delay, i };
        });
        // Arrival = event time + a delay within the bound: each reading arrives before any
        // reading more than OOO newer than it, which is what the bound promises.
        const shuffled = [...inOrder].sort((x, y) => x.arrival - y.arrival || x.i - y.i);
        const a = run(inOrder.map((x) => x.record));
        const b = run(shuffled.map((x) => x.record));
        expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
        for (const [key, x] of a) {
          const y = b.get(key) as Aggregate;
          expect({ ...y, mean: 0, stddev: 0 }).toEqual({ ...x, mean: 0, stddev: 0 });
          const scale = Math.max(1, Math.abs(x.max), Math.abs(x.min));
          expect(Math.abs(y.mean - x.mean)).toBeLessThanOrEqual(1e-9 * scale);
          expect(Math.abs(y.stddev - x.stddev)).toBeLessThanOrEqual(1e-6 * scale);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('tumbling windows with late readings (property)', () => {
  // Readings late by up to twice the allowed lateness, repeats among them, two metrics, a
  // window cap small enough to evict: every window's newest emitted version equals its
  // readings' aggregate computed directly (those the engine accepted: not repeats, not too
  // late), whether the window was corrected while open or after it was final; and an engine
  // restored from its JSON snapshot at any point goes on exactly as the original.
  const LATENESS = 40_000;
  const late = fc.array(
    fc.record({
      device: fc.constantFrom('a', 'b'),
      gap: fc.integer({ min: 0, max: 4_000 }),
      // Late (beyond the out-of-orderness) half the time, too late for a third of those.
      back: fc.oneof(fc.constant(0), fc.integer({ min: OOO, max: 2 * LATENESS + OOO })),
      metric: fc.constantFrom('m', 'n'),
      value: fc.integer({ min: -1000, max: 1000 }),
      repeat: fc.integer({ min: 0, max: 9 }),
      snapshot: fc.integer({ min: 0, max: 14 }),
    }),
    { minLength: 60, maxLength: 250 },
  );
  const engine = (maxWindows: number) =>
    new TumblingWindows({
      sizesMs: [10_000, 60_000],
      maxOutOfOrdernessMs: OOO,
      allowedLatenessMs: LATENESS,
      maxWindowsPerDevice: maxWindows,
    });

  it('emits each window as its accepted readings aggregate; a restored engine goes on alike', () => {
    let corrected = 0;
    fc.assert(
      fc.property(late, fc.constantFrom(1024, 5), (rs, maxWindows) => {
        let w = engine(maxWindows);
        const straight = engine(maxWindows);
        const newest = new Map<string, Aggregate>();
        const accepted = new Map<string, { time: number; seq: number; value: number }[]>();
        let time = T0;
        const sent: ReadingRecord[] = [];
        rs.forEach((r, i) => {
          time += r.gap;
          const record: ReadingRecord =
            r.repeat === 0 && sent.length > 0
              ? (sent[sent.length - 1 - (i % Math.min(3, sent.length))] as ReadingRecord)
              : {
                  v: 1,
                  gatewayId: 'gw',
                  gatewaySeq: i + 1,
                  deviceId: r.device,
                  time: time - r.back,
                  receivedAt: time,
                  metrics: { [r.metric]: { value: r.value } },
                };
          sent.push(record);
          const result = w.add(record);
          expect(straight.add(record)).toEqual(result);
          for (const a of result.aggregates) newest.set(aggregateKey(a), a);
          if (!result.duplicate && !result.tooLate)
            for (const [metric, m] of Object.entries(record.metrics))
              for (const size of [10_000, 60_000]) {
                const key = `${record.deviceId}/${metric}/${size}/${Math.floor(record.time / size) * size}`;
                const list = accepted.get(key) ?? [];
                list.push({ time: record.time, seq: record.gatewaySeq, value: m.value });
                accepted.set(key, list);
              }
          if (r.snapshot === 0) {
            const restored = engine(maxWindows);
            restored.restore(JSON.parse(JSON.stringify(w.snapshot())));
            w = restored;
          }
        });
        expect(w.snapshot()).toEqual(straight.snapshot());
        for (const a of w.closeUpTo(Number.MAX_SAFE_INTEGER / 2)) newest.set(aggregateKey(a), a);
        for (const [key, a] of newest) {
          // Evicted windows are sealed: later readings for them are skipped, not aggregated.
          if (maxWindows < 1024) continue;
          const list = accepted.get(key) ?? [];
          const values = list.map((x) => x.value);
          const lastOne = [...list].sort((x, y) => x.time - y.time || x.seq - y.seq).at(-1);
          expect(a.count).toBe(list.length);
          expect(a.min).toBe(Math.min(...values));
          expect(a.max).toBe(Math.max(...values));
          expect(a.last).toBe(lastOne?.value);
          const mean = values.reduce((s, v) => s + v, 0) / values.length;
          expect(Math.abs(a.mean - mean)).toBeLessThanOrEqual(1e-9 * 1000);
        }
        if (maxWindows === 1024) expect(newest.size).toBe(accepted.size);
        corrected += w.counters.corrections;
      }),
      { numRuns: 300 },
    );
    expect(corrected).toBeGreaterThan(1000); // final windows corrected, many of them twice
  });
});
