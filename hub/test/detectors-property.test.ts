import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Detector, DetectorKind, Scored } from '../src/detect/detector.ts';
import { DETECTOR_KINDS } from '../src/detect/registry.ts';
import { make } from './support/detectors.ts';

// Any finite value the record schema admits, at any spacing, interleaved with clock ticks.
const step = fc.record({
  dt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 120_000 }), fc.constant(86_400_000)),
  value: fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.double({ min: -100, max: 100, noNaN: true }),
    fc.constantFrom(0, 1, 1, 1, 5e-324, 1.7976931348623157e308, -1.7976931348623157e308),
  ),
  tick: fc.boolean(),
});
const steps = fc.array(step, { minLength: 1, maxLength: 300 });

// Small windows and warm-ups so the scoring paths are reached within a short sequence.
const SMALL: Partial<Record<DetectorKind, Record<string, unknown>>> = {
  rate: { warmup: 2, window: 5 },
  flatline: { minCount: 3 },
  zscore: { warmup: 3, window: 5, acceptAfter: 7 },
  'robust-zscore': { warmup: 3, window: 6 },
  ewma: { warmup: 3, window: 5, acceptAfter: 7 },
  cusum: { warmup: 3, window: 5, acceptAfter: 7 },
  heartbeat: { warmup: 2, window: 3 },
};

interface Step {
  time: number;
  value: number;
  /** Tick the clock at this time before the reading, if set. */
  tickAt: number | null;
}

function absolute(s: ReadonlyArray<{ dt: number; value: number; tick: boolean }>): Step[] {
  let time = 1_763_800_000_000;
  return s.map((x) => {
    time += x.dt;
    return { time, value: x.value, tickAt: x.tick ? time - x.dt / 2 : null };
  });
}

function drive(d: Detector, s: readonly Step[]) {
  const out: Scored[] = [];
  for (const x of s) {
    if (x.tickAt !== null && d.tick) out.push(d.tick(x.tickAt));
    out.push(d.update(x.time, x.value));
  }
  return out;
}

describe.each(DETECTOR_KINDS)('%s detector (properties)', (kind) => {
  it('scores every reading in [0, 1] with a non-negative statistic', () => {
    fc.assert(
      fc.property(steps, (s) => {
        for (const r of drive(make(kind, SMALL[kind]), absolute(s))) {
          expect(r.score).toBeGreaterThanOrEqual(0);
          expect(r.score).toBeLessThanOrEqual(1);
          expect(r.statistic).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('continues identically after snapshot -> JSON -> restore mid-stream', () => {
    fc.assert(
      fc.property(steps, fc.nat(), (raw, at) => {
        const s = absolute(raw);
        const cut = at % (s.length + 1);
        const straight = make(kind, SMALL[kind]);
        const expected = drive(straight, s);
        const first = make(kind, SMALL[kind]);
        const got = drive(first, s.slice(0, cut));
        const second = make(kind, SMALL[kind]);
        second.restore(JSON.parse(JSON.stringify(first.snapshot())));
        got.push(...drive(second, s.slice(cut)));
        expect(got).toEqual(expected);
        expect(second.snapshot()).toEqual(straight.snapshot());
      }),
      { numRuns: 150 },
    );
  });

  it('refuses a snapshot that is not its own', () => {
    if (kind === 'range') return; // stateless: any empty object is its state
    expect(() => make(kind).restore({ nonsense: true })).toThrow(
      expect.objectContaining({ code: 'STATE_INVALID' }),
    );
  });
});
