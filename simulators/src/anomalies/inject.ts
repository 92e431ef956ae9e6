import { gaussian, type Random } from '../random.ts';
import type { AnomalyType, AnomalyWindow } from './types.ts';

/** Default magnitudes, in multiples of the metric's typical deviation. */
export const DEFAULT_MAGNITUDE: Record<AnomalyType, number> = {
  spike: 8,
  'level-shift': 5,
  drift: 6,
  stuck: 0,
  dropout: 0,
  'noise-burst': 3,
};

/**
 * The value a sensor reports at `t` inside window `w`, given its true value: pure. `held` is
 * the last value reported before the window (for `stuck`); `random` feeds a noise burst.
 * Returns undefined when the reading is missing (`dropout`).
 *
 * - spike, level-shift: value + magnitude (a spike lasts one reporting interval by default)
 * - drift: value + magnitude × (t - start) / (end - start), a ramp reaching magnitude at the end
 * - stuck: the held value, whatever the signal does
 * - dropout: no value
 * - noise-burst: value + magnitude × N(0, 1)
 */
export function injectValue(
  value: number,
  w: AnomalyWindow,
  t: number,
  random: Random,
  held: number | undefined,
): number | undefined {
  switch (w.type) {
    case 'spike':
    case 'level-shift':
      return value + w.magnitude;
    case 'drift':
      return value + (w.magnitude * (t - w.start)) / Math.max(1, w.end - w.start);
    case 'stuck':
      return held ?? value;
    case 'dropout':
      return undefined;
    case 'noise-burst':
      return value + w.magnitude * gaussian(random);
  }
}
