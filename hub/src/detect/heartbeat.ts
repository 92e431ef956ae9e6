import { type Static, Type } from '@sinclair/typebox';
import { checkState } from '../state/state.ts';
import { type Detector, type Scored, scored, ZERO } from './detector.ts';

export const HeartbeatParamsSchema = Type.Object(
  {
    factor: Type.Number({
      exclusiveMinimum: 0,
      default: 3,
      description: 'silence, in expected gaps, that scores 0.5',
    }),
    expectedMs: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: 'fixed reporting interval; when absent the cadence is learned',
      }),
    ),
    window: Type.Integer({ minimum: 2, default: 20, description: 'span (gaps) of learning' }),
    warmup: Type.Integer({ minimum: 1, default: 5, description: 'gaps seen before scoring' }),
    minGapMs: Type.Number({
      minimum: 0,
      default: 1_000,
      description: 'floor on the learned gap, so a burst of readings does not make it tiny',
    }),
  },
  { additionalProperties: false },
);
export type HeartbeatParams = Static<typeof HeartbeatParamsSchema>;

const StateSchema = Type.Object({
  lastTime: Type.Union([Type.Number(), Type.Null()]),
  n: Type.Integer({ minimum: 0 }),
  gap: Type.Number({ minimum: 0 }),
});
type HeartbeatState = Static<typeof StateSchema>;

/**
 * Missing heartbeat for silent devices. Learns the reporting cadence (mean gap between event
 * times, then exponentially weighted, each gap capped at factor x the cadence so an outage does
 * not teach it to expect outages). Statistic: silence in ms; r = silence / (factor x gap).
 * `tick(now)` scores the silence since the last reading (driven by a clock the caller passes
 * in); `update` scores the gap the reading just ended, so the first reading after an outage
 * is marked too (this is all a backtest sees). State: last time, learned gap, a count.
 */
export class HeartbeatDetector implements Detector {
  readonly kind = 'heartbeat';
  private s: HeartbeatState = { lastTime: null, n: 0, gap: 0 };
  private readonly alpha: number;

  constructor(private readonly p: HeartbeatParams) {
    this.alpha = 2 / (p.window + 1);
  }

  update(time: number, _value: number): Scored {
    const s = this.s;
    if (s.lastTime === null || time <= s.lastTime) {
      if (s.lastTime === null) s.lastTime = time;
      return ZERO;
    }
    const gap = time - s.lastTime;
    const out = this.score(gap);
    s.lastTime = time;
    if (this.p.expectedMs !== undefined) return out;
    if (s.n < this.p.warmup) {
      s.n += 1;
      s.gap += (gap - s.gap) / s.n;
    } else {
      s.gap += this.alpha * (Math.min(gap, this.p.factor * this.expected()) - s.gap);
    }
    return out;
  }

  tick(now: number): Scored {
    return this.s.lastTime === null ? ZERO : this.score(now - this.s.lastTime);
  }

  snapshot(): HeartbeatState {
    return { ...this.s };
  }

  restore(state: unknown): void {
    this.s = { ...checkState(StateSchema, state, 'heartbeat detector') };
  }

  private expected(): number {
    return this.p.expectedMs ?? Math.max(this.s.gap, this.p.minGapMs);
  }

  private score(silence: number): Scored {
    if (silence <= 0) return ZERO;
    if (this.p.expectedMs === undefined && this.s.n < this.p.warmup) return ZERO;
    return scored(silence, this.p.factor * this.expected());
  }
}
