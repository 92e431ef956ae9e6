import { type Static, Type } from '@sinclair/typebox';
import { checkState } from '../state/state.ts';
import { Baseline, BaselineStateSchema, judge } from './baseline.ts';
import { bounded, type Detector, type Scored, scored, ZERO } from './detector.ts';

export const ZScoreParamsSchema = Type.Object(
  {
    threshold: Type.Number({ exclusiveMinimum: 0, default: 4, description: '|z| scoring 0.5' }),
    window: Type.Integer({
      minimum: 2,
      default: 100,
      description: 'span (readings) of the exponentially weighted mean and variance',
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
    minStd: Type.Number({
      minimum: 0,
      default: 0,
      description: 'floor on the standard deviation; set it to the sensor resolution',
    }),
  },
  { additionalProperties: false },
);
export type ZScoreParams = Static<typeof ZScoreParamsSchema>;

const StateSchema = Type.Object({ baseline: BaselineStateSchema });

/**
 * z-score against a forgetting baseline: z = |x - mean| / std of the readings before this one
 * (exponentially weighted, span `window`; values winsorised at the threshold before they are
 * learned, anomalous ones not learned; see Baseline). r = z / threshold. State: mean,
 * variance, two counts (O(1)).
 */
export class ZScoreDetector implements Detector {
  readonly kind = 'zscore';
  private readonly baseline: Baseline;

  constructor(private readonly p: ZScoreParams) {
    this.baseline = new Baseline(p.window, p.warmup, p.minStd, p.acceptAfter);
  }

  update(_time: number, value: number): Scored {
    const x = bounded(value);
    const b = this.baseline;
    if (!b.ready) {
      b.add(x, Number.POSITIVE_INFINITY);
      return ZERO;
    }
    const z = Math.abs(x - b.mean) / b.std;
    b.observe(x, judge(z, this.p.threshold), this.p.threshold);
    return scored(z, this.p.threshold);
  }

  snapshot() {
    return { baseline: this.baseline.snapshot() };
  }

  restore(state: unknown): void {
    this.baseline.restore(checkState(StateSchema, state, 'zscore detector').baseline);
  }
}
