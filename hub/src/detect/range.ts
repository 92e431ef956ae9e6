import { type Static, Type } from '@sinclair/typebox';
import { checkState } from '../state/state.ts';
import { type Detector, type DetectorState, type Scored, scored, ZERO } from './detector.ts';

export const RangeParamsSchema = Type.Object(
  {
    min: Type.Optional(Type.Number({ description: 'lowest normal value (inclusive)' })),
    max: Type.Optional(Type.Number({ description: 'highest normal value (inclusive)' })),
    tolerance: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description:
          'distance outside the range at which the score reaches 0.8; default 10% of max - min, or of |bound| (at least 1) with one bound',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RangeParams = Static<typeof RangeParamsSchema>;

export function checkRangeParams(p: RangeParams): string | undefined {
  if (p.min === undefined && p.max === undefined) return 'needs min, max or both';
  if (p.min !== undefined && p.max !== undefined && p.min > p.max) return 'min is above max';
  return undefined;
}

/**
 * Out of range: 0 inside [min, max]; outside, r = 1 + excess / tolerance, so any value outside
 * scores at least 0.5. Stateless. Statistic: the distance outside the range.
 */
export class RangeDetector implements Detector {
  readonly kind = 'range';
  private readonly min: number;
  private readonly max: number;
  private readonly tolerance: number;

  constructor(p: RangeParams) {
    this.min = p.min ?? Number.NEGATIVE_INFINITY;
    this.max = p.max ?? Number.POSITIVE_INFINITY;
    const span =
      p.min !== undefined && p.max !== undefined && p.max > p.min
        ? p.max - p.min
        : Math.max(1, Math.abs(p.min ?? p.max ?? 1));
    this.tolerance = p.tolerance ?? span * 0.1;
  }

  update(_time: number, value: number): Scored {
    const excess = value < this.min ? this.min - value : value > this.max ? value - this.max : 0;
    if (!(excess > 0)) return ZERO;
    const r = 1 + excess / this.tolerance;
    return { score: scored(r, 1).score, statistic: excess };
  }

  snapshot(): DetectorState {
    return {};
  }

  restore(state: unknown): void {
    checkState(Type.Object({}), state, 'range detector');
  }
}
