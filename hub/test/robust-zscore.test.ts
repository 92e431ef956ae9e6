import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bounded, type Scored, scored, ZERO } from '../src/detect/detector.ts';
import { medianOf, RobustZScoreDetector } from '../src/detect/robust-zscore.ts';

/** The straightforward definition: copy the window, sort it, sort the deviations. */
class Reference {
  private values: number[] = [];
  constructor(
    private readonly p: { threshold: number; window: number; warmup: number; minMad: number },
  ) {}
  update(value: number): Scored {
    const x = bounded(value);
    const values = [...this.values];
    this.values.push(x);
    if (this.values.length > this.p.window) this.values.shift();
    if (values.length < Math.min(this.p.warmup, this.p.window)) return ZERO;
    const median = medianOf(values);
    const deviations = values.map((v) => Math.abs(v - median));
    let mad = medianOf(deviations);
    if (mad === 0) mad = (deviations.reduce((a, b) => a + b, 0) / deviations.length) * 0.8453;
    mad = Math.max(mad, this.p.minMad, 1e-9 * Math.max(1, Math.abs(median)));
    return scored((0.6745 * Math.abs(x - median)) / mad, this.p.threshold);
  }
}

const value = fc.oneof(
  fc.double({ noDefaultInfinity: true }), // NaN included: the detector must not depend on it
  fc.double({ min: -5, max: 5, noNaN: true }),
  fc.integer({ min: -3, max: 3 }), // many ties
  fc.constantFrom(0, -0, 1e100, -1e100, 1.7976931348623157e308, 5e-324),
);

describe('robust-zscore: incremental median / MAD', () => {
  it('scores exactly as sorting the window, also across a snapshot / restore', () => {
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 3, max: 40 }),
        fc.integer({ min: 3, max: 20 }),
        fc.nat(400),
        (values, window, warmup, restoreAt) => {
          const p = { threshold: 5, window, warmup, minMad: 0 };
          const reference = new Reference(p);
          let d = new RobustZScoreDetector(p);
          values.forEach((v, i) => {
            if (i === restoreAt) {
              // A JSON round trip, as a checkpoint makes (NaN becomes null: skip those).
              const snap = d.snapshot();
              if (snap.values.every((x) => Number.isFinite(x))) {
                const next = new RobustZScoreDetector(p);
                next.restore(JSON.parse(JSON.stringify(snap)));
                d = next;
              }
            }
            expect(d.update(i, v)).toEqual(reference.update(v));
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
