import { type Static, Type } from '@sinclair/typebox';
import { doubles } from '../state/doubles.ts';
import { RingBuffer } from '../state/ring-buffer.ts';
import { checkState } from '../state/state.ts';
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
 * numbers, plus the same numbers kept sorted (derived, not saved), so a reading costs O(window)
 * (one insertion, one removal, a merge of the two sides of the median for the MAD) instead of
 * two sorts. The result is exactly that of sorting: the same floating-point operations on the
 * same values in the same order.
 */
export class RobustZScoreDetector implements Detector {
  readonly kind = 'robust-zscore';
  private readonly ring: RingBuffer;
  /** The ring's values ascending, NaN last (as a typed-array sort orders them). */
  private readonly sorted: number[];
  private nans = 0;

  constructor(private readonly p: RobustZScoreParams) {
    this.ring = new RingBuffer(p.window);
    this.sorted = doubles(p.window);
  }

  update(_time: number, value: number): Scored {
    const x = bounded(value);
    const n = this.ring.size;
    const result =
      n < Math.min(this.p.warmup, this.p.window)
        ? ZERO
        : this.nans > 0
          ? this.scoreBySorting(x)
          : this.score(x, n);
    this.learn(x, n);
    return result;
  }

  snapshot() {
    return { values: this.ring.values() };
  }

  restore(state: unknown): void {
    this.ring.load(checkState(StateSchema, state, 'robust-zscore detector').values);
    const n = this.ring.size;
    const ascending = Float64Array.from(this.ring.values()).sort(); // NaN last
    this.nans = 0;
    for (let i = 0; i < n; i += 1) {
      const v = ascending[i] as number;
      this.sorted[i] = v;
      if (Number.isNaN(v)) this.nans += 1;
    }
  }

  /** The score of x against the n values before it (no NaN among them). */
  private score(x: number, n: number): Scored {
    const s = this.sorted;
    const mid = n >> 1;
    const median =
      n % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
    // The deviations |v - median| grow outwards from the median on both sides: merge the two
    // runs up to the middle one instead of sorting them all.
    let right = lowerBound(s, n, median);
    let left = right - 1;
    let previous = 0;
    let current = 0;
    for (let k = 0; k <= mid; k += 1) {
      const dl = left >= 0 ? Math.abs((s[left] as number) - median) : Number.POSITIVE_INFINITY;
      const dr = right < n ? Math.abs((s[right] as number) - median) : Number.POSITIVE_INFINITY;
      previous = current;
      if (dl <= dr) {
        current = dl;
        left -= 1;
      } else {
        current = dr;
        right += 1;
      }
    }
    let mad = n % 2 === 1 ? current : (previous + current) / 2;
    if (mad === 0) {
      let sum = 0; // in ring order, as the reference sums them
      for (let i = 0; i < n; i += 1) sum += Math.abs(this.ring.at(i) - median);
      mad = (sum / n) * 0.8453;
    }
    mad = Math.max(mad, this.p.minMad, 1e-9 * Math.max(1, Math.abs(median)));
    return scored((0.6745 * Math.abs(x - median)) / mad, this.p.threshold);
  }

  /** The reference computation (two sorts); used when the window holds a NaN. */
  private scoreBySorting(x: number): Scored {
    const values = this.ring.values();
    const median = medianOf(values);
    const deviations = values.map((v) => Math.abs(v - median));
    let mad = medianOf(deviations);
    if (mad === 0) mad = (deviations.reduce((a, b) => a + b, 0) / deviations.length) * 0.8453;
    mad = Math.max(mad, this.p.minMad, 1e-9 * Math.max(1, Math.abs(median)));
    return scored((0.6745 * Math.abs(x - median)) / mad, this.p.threshold);
  }

  /** Pushes x into the ring and the sorted copy (which holds n values before). */
  private learn(x: number, n: number): void {
    const s = this.sorted;
    const dropped = this.ring.push(x);
    let count = n;
    if (dropped !== undefined) {
      // Remove one occurrence of the dropped value: NaNs sit at the end.
      const at = Number.isNaN(dropped) ? count - 1 : lowerBound(s, count - this.nans, dropped);
      if (Number.isNaN(dropped)) this.nans -= 1;
      for (let i = at; i < count - 1; i += 1) s[i] = s[i + 1] as number;
      count -= 1;
    }
    if (Number.isNaN(x)) {
      s[count] = x;
      this.nans += 1;
      return;
    }
    const at = lowerBound(s, count - this.nans, x);
    for (let i = count; i > at; i -= 1) s[i] = s[i - 1] as number;
    s[at] = x;
  }
}

/** The first index in [0, length) of ascending `s` whose value is not below v. */
function lowerBound(s: readonly number[], length: number, v: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if ((s[m] as number) < v) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** Median of a non-empty list (sorts a copy). */
export function medianOf(values: readonly number[]): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
