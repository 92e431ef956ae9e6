import { type Static, Type } from '@sinclair/typebox';
import { RingBuffer } from '../stream/ring-buffer.ts';
import { checkState } from '../stream/state.ts';
import { bounded, type Detector, type Scored, scored, ZERO } from './detector.ts';

export const RobustZScoreParamsSchema = Type.Object(
  {
    threshold: Type.Number({
      exclusiveMinimum: 0,
      default: 5,
      description:
        'robust |z| scoring 0.5; 3.5 is the textbook cut-off for a batch, 5 keeps a stream quiet',
    }),
    window: Type.Integer({
      minimum: 3,
      maximum: 2_000,
      default: 60,
      description: 'readings in the sliding window (ring buffer)',
    }),
    warmup: Type.Integer({ minimum: 3, default: 10, description: 'readings before scoring' }),
    minMad: Type.Number({
      minimum: 0,
      default: 0,
      description: 'floor on the MAD; set it to the sensor resolution',
    }),
  },
  { additionalProperties: false },
);
export type RobustZScoreParams = Static<typeof RobustZScoreParamsSchema>;

const StateSchema = Type.Object({ values: Type.Array(Type.Number()) });

/**
 * Robust (modified) z-score: z = 0.6745 (x - median) / MAD over the last `window` readings
 * before this one; r = |z| / threshold. Median and MAD ignore the outliers they are meant to
 * find. When more than half the window is equal (MAD = 0), the mean absolute deviation
 * (x 0.8453, the same scale for normal data) stands in. State: a ring buffer of `window`
 * numbers; O(window log window) per reading.
 */
export class RobustZScoreDetector implements Detector {
  readonly kind = 'robust-zscore';
  private readonly ring: RingBuffer;

  constructor(private readonly p: RobustZScoreParams) {
    this.ring = new RingBuffer(p.window);
  }

  update(_time: number, value: number): Scored {
    const x = bounded(value);
    const values = this.ring.values();
    this.ring.push(x);
    if (values.length < Math.min(this.p.warmup, this.p.window)) return ZERO;
    const median = medianOf(values);
    const deviations = values.map((v) => Math.abs(v - median));
    let mad = medianOf(deviations);
    if (mad === 0) mad = (deviations.reduce((a, b) => a + b, 0) / deviations.length) * 0.8453;
    mad = Math.max(mad, this.p.minMad, 1e-9 * Math.max(1, Math.abs(median)));
    return scored((0.6745 * Math.abs(x - median)) / mad, this.p.threshold);
  }

  snapshot() {
    return { values: this.ring.values() };
  }

  restore(state: unknown): void {
    this.ring.load(checkState(StateSchema, state, 'robust-zscore detector').values);
  }
}

/** Median of a non-empty list (sorts a copy). */
export function medianOf(values: readonly number[]): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
