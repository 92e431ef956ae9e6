import { type Static, Type } from '@sinclair/typebox';
import { checkState } from '../state/state.ts';
import { Baseline, BaselineStateSchema, type Judgement } from './baseline.ts';
import { bounded, type Detector, type Scored, scored, ZERO } from './detector.ts';

export const CusumParamsSchema = Type.Object(
  {
    k: Type.Number({
      minimum: 0,
      default: 0.5,
      description: 'slack in sigmas, half the shift to detect (delta / 2)',
    }),
    h: Type.Number({ exclusiveMinimum: 0, default: 8, description: 'decision interval in sigmas' }),
    window: Type.Integer({
      minimum: 2,
      default: 50,
      description: 'span (readings) of the baseline mean and variance',
    }),
    warmup: Type.Integer({
      minimum: 2,
      default: 20,
      description: 'readings learned before scoring',
    }),
    acceptAfter: Type.Integer({
      minimum: 1,
      default: 500,
      description: 'readings in alarm in a row after which the new level is accepted as normal',
    }),
    minStd: Type.Number({ minimum: 0, default: 0, description: 'floor on the standard deviation' }),
  },
  { additionalProperties: false },
);
export type CusumParams = Static<typeof CusumParamsSchema>;

const StateSchema = Type.Object({
  baseline: BaselineStateSchema,
  high: Type.Number({ minimum: 0 }),
  low: Type.Number({ minimum: 0 }),
});

const CLIP = 3;

/**
 * Two-sided tabular CUSUM on standardised readings: S+ = max(0, S+ + z - k),
 * S- = max(0, S- - z - k), z = (x - mean) / sigma. r = max(S+, S-) / h. The sums are capped at
 * 2h (score 0.8), so they come back down soon after the shift ends instead of never. The
 * baseline forgets slowly (span `window`) and learns nothing while a sum is at or above h; a
 * shift that lasts `window` readings is accepted as the new normal (see Baseline). O(1) state.
 */
export class CusumDetector implements Detector {
  readonly kind = 'cusum';
  private readonly baseline: Baseline;
  private high = 0;
  private low = 0;

  constructor(private readonly p: CusumParams) {
    this.baseline = new Baseline(p.window, p.warmup, p.minStd, p.acceptAfter);
  }

  update(_time: number, value: number): Scored {
    const x = bounded(value);
    const b = this.baseline;
    if (!b.ready) {
      b.add(x, Number.POSITIVE_INFINITY);
      return ZERO;
    }
    const z = (x - b.mean) / b.std;
    const cap = 2 * this.p.h;
    this.high = Math.min(cap, Math.max(0, this.high + z - this.p.k));
    this.low = Math.min(cap, Math.max(0, this.low - z - this.p.k));
    const stat = Math.max(this.high, this.low);
    const judgement: Judgement = stat >= this.p.h ? 'alarm' : stat === 0 ? 'calm' : 'normal';
    if (b.observe(x, judgement, CLIP)) {
      this.high = 0;
      this.low = 0;
    }
    return scored(stat, this.p.h);
  }

  /** After an episode: the sums and the baseline start afresh from the readings to come. */
  episodeClosed(): void {
    this.baseline.restart();
    this.high = 0;
    this.low = 0;
  }

  snapshot() {
    return { baseline: this.baseline.snapshot(), high: this.high, low: this.low };
  }

  restore(state: unknown): void {
    const s = checkState(StateSchema, state, 'cusum detector');
    this.baseline.restore(s.baseline);
    this.high = s.high;
    this.low = s.low;
  }
}
