import { exponential, type Random, uniform } from './random.ts';

/** What real firmware does besides reporting; every field optional (off). */
export interface BehaviourOptions {
  /** Mean time between reboots (a new session, seq from 0, hello/describe or birth again). */
  rebootEveryMs?: number;
  /** Mean time between silences, and how long each lasts (default 60 s). */
  silenceEveryMs?: number;
  silenceForMs?: number;
  /** Mean time between bursts: `burstSize` readings held back, then sent back to back. */
  burstEveryMs?: number;
  burstSize?: number;
  /** Largest clock offset: each device's clock is off by a uniform amount in ±this. */
  clockSkewMs?: number;
  /** Largest clock rate error in parts per million (±), so the offset grows over time. */
  clockDriftPpm?: number;
  /** Sampling jitter: each reading is taken up to ± this many ms off its schedule. */
  jitterMs?: number;
}

export interface Span {
  start: number;
  end: number;
}

/**
 * One device's behaviour plan, deterministic from its own random stream: when it reboots, when
 * it falls silent, when it bursts, and how wrong its clock is. Pure: time is passed in.
 */
export class BehaviourPlan {
  readonly offsetMs: number;
  readonly driftPpm: number;
  private nextReboot: number;
  private silence: Span | undefined;
  private silenceBegun = false;
  private nextBurst: number;

  constructor(
    private readonly options: BehaviourOptions,
    private readonly random: Random,
    private readonly start: number,
  ) {
    const skew = options.clockSkewMs ?? 0;
    const ppm = options.clockDriftPpm ?? 0;
    this.offsetMs = skew > 0 ? Math.round(uniform(random, -skew, skew)) : 0;
    this.driftPpm = ppm > 0 ? uniform(random, -ppm, ppm) : 0;
    this.nextReboot = this.after(start, options.rebootEveryMs);
    this.silence = this.nextSilence(start);
    this.nextBurst = this.after(start, options.burstEveryMs);
  }

  /** The time the device's clock shows at true time t. */
  stamp(t: number): number {
    return Math.round(t + this.offsetMs + ((t - this.start) * this.driftPpm) / 1e6);
  }

  /** True once per planned reboot, at the first reading at or after it. */
  rebootDue(t: number): boolean {
    if (t < this.nextReboot) return false;
    this.nextReboot = this.after(t, this.options.rebootEveryMs);
    return true;
  }

  /** The silence covering t, if any; `begins` is true at the first reading inside it. */
  silenceAt(t: number): { span: Span; begins: boolean } | undefined {
    while (this.silence && t >= this.silence.end) {
      this.silence = this.nextSilence(this.silence.end);
      this.silenceBegun = false;
    }
    const span = this.silence;
    if (!span || t < span.start) return undefined;
    const begins = !this.silenceBegun;
    this.silenceBegun = true;
    return { span, begins };
  }

  /** True once per planned burst, at the first reading at or after it. */
  burstDue(t: number): boolean {
    if (t < this.nextBurst) return false;
    this.nextBurst = this.after(t, this.options.burstEveryMs);
    return true;
  }

  get burstSize(): number {
    return Math.max(2, this.options.burstSize ?? 10);
  }

  private after(t: number, mean: number | undefined): number {
    return mean && mean > 0 ? t + exponential(this.random, mean) : Number.POSITIVE_INFINITY;
  }

  private nextSilence(from: number): Span | undefined {
    const every = this.options.silenceEveryMs;
    if (!every || every <= 0) return undefined;
    const start = Math.round(from + exponential(this.random, every));
    return { start, end: start + Math.max(1, this.options.silenceForMs ?? 60_000) };
  }
}
