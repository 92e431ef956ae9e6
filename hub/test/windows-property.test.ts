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
