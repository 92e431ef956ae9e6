import { type Static, Type } from '@sinclair/typebox';
import { checkState } from '../state/state.ts';
import { bounded, type Detector, type Scored, scored, ZERO } from './detector.ts';

export const RateParamsSchema = Type.Object(
  {
    maxRate: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: 'fixed limit on |change| per second; when absent the limit is learned',
      }),
    ),
    k: Type.Number({
      exclusiveMinimum: 0,
      default: 6,
      description: 'learned limit = k x the typical |change| per second',
    }),
    window: Type.Integer({ minimum: 2, default: 100, description: 'span (readings) of learning' }),
    warmup: Type.Integer({ minimum: 1, default: 20, description: 'changes seen before scoring' }),
    minIntervalMs: Type.Number({
      exclusiveMinimum: 0,
      default: 1,
      description: 'shorter intervals count as this long, so equal timestamps do not divide by 0',
    }),
  },
  { additionalProperties: false },
);
export type RateParams = Static<typeof RateParamsSchema>;

const StateSchema = Type.Object({
  lastTime: Type.Union([Type.Number(), Type.Null()]),
  lastValue: Type.Number(),
  n: Type.Integer({ minimum: 0 }),
  typical: Type.Number({ minimum: 0 }),
});
type RateState = Static<typeof StateSchema>;

/**
 * Rate of change: statistic |value - previous| / seconds between them, against `maxRate` or,
 * without one, against k x an exponentially weighted mean of past rates (winsorised at the
 * limit, so a jump does not raise the limit much). Both the jump and the return of a spike
 * score. State: last value and time, the typical rate, a count.
 */
export class RateDetector implements Detector {
  readonly kind = 'rate';
  private s: RateState = { lastTime: null, lastValue: 0, n: 0, typical: 0 };
  private readonly alpha: number;

  constructor(private readonly p: RateParams) {
    this.alpha = 2 / (p.window + 1);
  }

  update(time: number, value: number): Scored {
    const v = bounded(value);
    const s = this.s;
    if (s.lastTime === null) {
      this.s = { ...s, lastTime: time, lastValue: v };
      return ZERO;
    }
    const seconds = Math.max(time - s.lastTime, this.p.minIntervalMs) / 1000;
    const rate = Math.abs(v - s.lastValue) / seconds;
    s.lastTime = time;
    s.lastValue = v;
    if (this.p.maxRate !== undefined) return scored(rate, this.p.maxRate);
    if (s.n < this.p.warmup) {
      s.n += 1;
      s.typical += (rate - s.typical) / s.n;
      return ZERO;
    }
    const limit = this.p.k * Math.max(s.typical, Number.MIN_VALUE);
    const out = scored(rate, limit);
    s.typical += this.alpha * (Math.min(rate, limit) - s.typical);
    return out;
  }

  snapshot(): RateState {
    return { ...this.s };
  }

  restore(state: unknown): void {
    this.s = { ...checkState(StateSchema, state, 'rate detector') };
  }
}
