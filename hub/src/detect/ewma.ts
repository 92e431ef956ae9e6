import { type Static, Type } from '@sinclair/typebox';
import { checkState } from '../state/state.ts';
import { Baseline, BaselineStateSchema, judge } from './baseline.ts';
import { bounded, type Detector, type Scored, scored, ZERO } from './detector.ts';

export const EwmaParamsSchema = Type.Object(
  {
    lambda: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.1,
      description: 'weight of the newest reading in the chart statistic',
    }),
    L: Type.Number({ exclusiveMinimum: 0, default: 3.5, description: 'control limit in sigmas' }),
    window: Type.Integer({
      minimum: 2,
      default: 100,
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
export type EwmaParams = Static<typeof EwmaParamsSchema>;

const StateSchema = Type.Object({ baseline: BaselineStateSchema, chart: Type.Number() });

/** Deviations beyond this many sigmas are winsorised before the baseline learns them. */
const CLIP = 3;

/**
 * EWMA control chart: chart = lambda x + (1 - lambda) chart; limits mean +/- L sigma
 * sqrt(lambda / (2 - lambda)) (asymptotic). r = |chart - mean| / (L sigma sqrt(...)). Sees
 * small sustained shifts that single readings hide. The baseline (mean, sigma) forgets slowly
 * (span `window`) and learns nothing while the chart is out of control; a change that lasts
 * `window` readings is accepted as the new normal (see Baseline). O(1) state.
 */
export class EwmaDetector implements Detector {
  readonly kind = 'ewma';
  private readonly baseline: Baseline;
  private chart = 0;
  private readonly spread: number;

  constructor(private readonly p: EwmaParams) {
    this.baseline = new Baseline(p.window, p.warmup, p.minStd, p.acceptAfter);
    this.spread = Math.sqrt(p.lambda / (2 - p.lambda));
  }

  update(_time: number, value: number): Scored {
    const x = bounded(value);
    const b = this.baseline;
    if (!b.ready) {
      b.add(x, Number.POSITIVE_INFINITY);
      this.chart = b.mean;
      return ZERO;
    }
    this.chart = this.p.lambda * x + (1 - this.p.lambda) * this.chart;
    const stat = Math.abs(this.chart - b.mean) / (b.std * this.spread);
    if (b.observe(x, judge(stat, this.p.L), CLIP)) this.chart = b.mean;
    return scored(stat, this.p.L);
  }

  /** After an episode: the chart and the baseline start afresh from the readings to come. */
  episodeClosed(): void {
    this.baseline.restart();
  }

  snapshot() {
    return { baseline: this.baseline.snapshot(), chart: this.chart };
  }

  restore(state: unknown): void {
    const s = checkState(StateSchema, state, 'ewma detector');
    this.baseline.restore(s.baseline);
    this.chart = s.chart;
  }
}
