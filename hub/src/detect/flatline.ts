import { type Static, Type } from '@sinclair/typebox';
import { checkState } from '../state/state.ts';
import { type Detector, type Scored, scored } from './detector.ts';

export const FlatlineParamsSchema = Type.Object(
  {
    minCount: Type.Integer({
      minimum: 2,
      default: 10,
      description: 'readings in a run of equal values at which the score reaches 0.5',
    }),
    minDurationMs: Type.Number({
      minimum: 0,
      default: 0,
      description: 'and the run must last this long (0: count only)',
    }),
    tolerance: Type.Number({
      minimum: 0,
      default: 0,
      description: 'values within this distance of the run s first value count as equal',
    }),
  },
  { additionalProperties: false },
);
export type FlatlineParams = Static<typeof FlatlineParamsSchema>;

const StateSchema = Type.Object({
  runValue: Type.Number(),
  runStart: Type.Number(),
  runCount: Type.Integer({ minimum: 0 }),
});
type FlatlineState = Static<typeof StateSchema>;

/**
 * Stuck sensor / flatline: the length of the current run of equal values (within tolerance of
 * the run's first value, so a slow drift does not chain). r = min((count - 1) / (minCount - 1),
 * duration / minDurationMs): a lone value scores 0, a run of minCount values lasting
 * minDurationMs scores 0.5. Statistic: the run length. State: run value, start, count.
 */
export class FlatlineDetector implements Detector {
  readonly kind = 'flatline';
  private s: FlatlineState = { runValue: 0, runStart: 0, runCount: 0 };

  constructor(private readonly p: FlatlineParams) {}

  update(time: number, reading: number): Scored {
    const value = reading + 0; // -0 as 0, as a JSON snapshot would store it
    const s = this.s;
    if (s.runCount > 0 && Math.abs(value - s.runValue) <= this.p.tolerance) {
      s.runCount += 1;
    } else {
      // In place: a new object per reading was most of what this detector allocated.
      s.runValue = value;
      s.runStart = time;
      s.runCount = 1;
    }
    const { runCount, runStart } = s;
    const byCount = (runCount - 1) / (this.p.minCount - 1);
    const byTime =
      this.p.minDurationMs > 0
        ? (time - runStart) / this.p.minDurationMs
        : Number.POSITIVE_INFINITY;
    return { score: scored(Math.min(byCount, byTime), 1).score, statistic: runCount };
  }

  snapshot(): FlatlineState {
    return { ...this.s };
  }

  restore(state: unknown): void {
    this.s = { ...checkState(StateSchema, state, 'flatline detector') };
  }
}
