import type { Random } from '../random.ts';

/** One metric a device reports: its name, SenML unit, and how it is quantised. */
export interface MetricSpec {
  /** Metric name, `[A-Za-z0-9._-]{1,64}` (the protocol's id kind [FP-5.1]). */
  name: string;
  /** SenML unit (RFC 8428 / RFC 8798 registries), e.g. `Cel`, `%RH`, `W`, `ppm`; '' for none. */
  unit: string;
  /**
   * Decimal exponent: values are multiples of 10^scale. On the serial link the raw integer is
   * value / 10^scale and `describe` announces the scale [FP-5.3]; the JSON form carries the
   * same rounded value, so both transports deliver identical readings.
   */
  scale: number;
  /** A typical deviation: default anomaly magnitudes are multiples of it. */
  typical: number;
  /** Physical limits the true signal is clamped to (an injected anomaly may leave them). */
  min?: number;
  max?: number;
}

/** Where a device is: the daily cycle follows local time; the climate differs per site. */
export interface Site {
  /** Empty for a fleet without sites. */
  name: string;
  /** Hours east of UTC, for the local time of day. */
  utcOffsetHours: number;
  /** Added to the ambient temperature of every device at the site. */
  temperatureOffset: number;
}

export type Values = Record<string, number>;

/**
 * A device profile: the metrics it reports and the true signal as a function of time. `params`
 * draws a device's constants once (from the device's own random stream); `sample` is the
 * signal at `t` (epoch ms, passed in: no clock is read) with noise drawn from `random`.
 * `memory` is the device's small mutable state (e.g. an energy counter), starting as `{}`.
 */
export interface Profile<P = unknown> {
  readonly name: string;
  readonly description: string;
  readonly metrics: readonly MetricSpec[];
  params(random: Random, site: Site, start: number): P;
  sample(params: P, t: number, random: Random, memory: Record<string, number>): Values;
}

/** Rounds to a multiple of 10^scale (by division for negative scales: 21.5, not 21.500000001). */
export function quantise(value: number, scale: number): number {
  if (scale < 0) {
    const f = 10 ** -scale;
    return Math.round(value * f) / f;
  }
  const f = 10 ** scale;
  return Math.round(value / f) * f;
}

/** The raw integer of a quantised value for a data frame [FP-5.4]. */
export function rawValue(value: number, scale: number): number {
  return scale < 0 ? Math.round(value * 10 ** -scale) : Math.round(value / 10 ** scale);
}

export function clamp(value: number, spec: MetricSpec): number {
  const lo = spec.min ?? Number.NEGATIVE_INFINITY;
  const hi = spec.max ?? Number.POSITIVE_INFINITY;
  return Math.min(hi, Math.max(lo, value));
}
