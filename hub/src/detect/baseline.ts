import { type Static, Type } from '@sinclair/typebox';

/** How the detector judges the reading it just scored, which decides what the baseline does. */
export type Judgement = 'calm' | 'normal' | 'alarm';

/** Calm below a third of the threshold, alarm at or above it, normal in between. */
export function judge(statistic: number, threshold: number): Judgement {
  return statistic >= threshold ? 'alarm' : statistic < threshold / 3 ? 'calm' : 'normal';
}

const CoreSchema = Type.Object({
  n: Type.Integer({ minimum: 0 }),
  mean: Type.Number(),
  variance: Type.Number({ minimum: 0 }),
  m2: Type.Number({ minimum: 0 }),
});
type Core = Static<typeof CoreSchema>;

export const BaselineStateSchema = Type.Object({
  core: CoreSchema,
  calm: Type.Union([CoreSchema, Type.Null()]),
  alarmRun: Type.Integer({ minimum: 0 }),
});
export type BaselineState = Static<typeof BaselineStateSchema>;

const EMPTY: Core = { n: 0, mean: 0, variance: 0, m2: 0 };

/**
 * A forgetting estimate of a series' mean and standard deviation: the plain mean and variance
 * (Welford) of the first `warmup` values, then exponentially weighted with span `window`
 * (alpha = 2 / (window + 1)), so it follows slow changes (unlike Kapacitor's sigma(), it
 * forgets). Values are winsorised to mean +/- clip * std before they are learned.
 *
 * So that an anomaly does not become the baseline it is measured against: nothing is learned
 * while the detector is in alarm, and when an alarm starts the baseline goes back to where it
 * was at the last calm reading (undoing what the run-up of a slow change taught it). After
 * `acceptAfter` readings in alarm in a row the change is accepted as the new normal and the
 * baseline starts again, warm-up included. O(1) state: two estimates and a count.
 */
export class Baseline {
  private core: Core = { ...EMPTY };
  private calm: Core | null = null;
  private alarmRun = 0;
  private readonly alpha: number;

  constructor(
    window: number,
    private readonly warmup: number,
    private readonly minStd: number,
    private readonly acceptAfter: number = Number.POSITIVE_INFINITY,
  ) {
    this.alpha = 2 / (window + 1);
  }

  get ready(): boolean {
    return this.core.n >= this.warmup;
  }

  get mean(): number {
    return this.core.mean;
  }

  /** Never 0: floored by minStd and by a tiny fraction of the mean's magnitude. */
  get std(): number {
    const { variance, mean } = this.core;
    return Math.max(Math.sqrt(variance), this.minStd, 1e-9 * Math.max(1, Math.abs(mean)));
  }

  /**
   * Learns x according to the detector's judgement of it. Returns true when a long alarm made
   * the baseline start afresh (the detector resets its own statistic then).
   */
  observe(x: number, judgement: Judgement, clip: number): boolean {
    if (judgement !== 'alarm') {
      this.alarmRun = 0;
      this.add(x, clip);
      if (judgement === 'calm') this.calm = { ...this.core };
      return false;
    }
    if (this.alarmRun === 0 && this.calm) this.core = { ...this.calm };
    this.alarmRun += 1;
    if (this.alarmRun < this.acceptAfter) return false;
    this.restart();
    this.add(x, clip);
    return true;
  }

  /** Forgets everything: the next `warmup` readings are learned afresh as the reference. */
  restart(): void {
    this.restore({ core: { ...EMPTY }, calm: null, alarmRun: 0 });
  }

  /** Learns x unconditionally (winsorised once warm). */
  add(x: number, clip: number): void {
    const c = this.core;
    if (c.n < this.warmup) {
      c.n += 1;
      const d = x - c.mean;
      c.mean += d / c.n;
      c.m2 += d * (x - c.mean);
      c.variance = c.n > 1 ? c.m2 / (c.n - 1) : 0;
      return;
    }
    const limit = clip * this.std;
    const d = Math.min(Math.max(x, c.mean - limit), c.mean + limit) - c.mean;
    c.mean += this.alpha * d;
    c.variance = (1 - this.alpha) * (c.variance + this.alpha * d * d);
  }

  snapshot(): BaselineState {
    return { core: { ...this.core }, calm: this.calm && { ...this.calm }, alarmRun: this.alarmRun };
  }

  restore(s: BaselineState): void {
    this.core = { ...s.core };
    this.calm = s.calm && { ...s.calm };
    this.alarmRun = s.alarmRun;
  }
}
