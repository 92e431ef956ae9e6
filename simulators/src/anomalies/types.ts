export const ANOMALY_TYPES = [
  'spike',
  'level-shift',
  'drift',
  'stuck',
  'dropout',
  'noise-burst',
] as const;
export type AnomalyType = (typeof ANOMALY_TYPES)[number];

/** Other spellings accepted in specs and rules files. */
export const TYPE_ALIASES: Record<string, AnomalyType> = {
  shift: 'level-shift',
  level_shift: 'level-shift',
  levelShift: 'level-shift',
  noise: 'noise-burst',
  noise_burst: 'noise-burst',
  noiseBurst: 'noise-burst',
  stuck_value: 'stuck',
  'stuck-value': 'stuck',
  flatline: 'stuck',
};

/**
 * One injection rule: which devices and metrics, what, when, how long, how strong. Either `at`
 * (one window per device and metric) or `every` (a Poisson process of windows) is set.
 */
export interface AnomalyRule {
  type: AnomalyType;
  /** Device id globs (`*`, `?`); empty: every device. */
  devices: string[];
  /** Metric names; empty: every metric of the device (each with its own windows). */
  metrics: string[];
  /** An instant: ISO-8601, epoch ms, or an offset from the start of the run (`5m`). */
  at?: string;
  /** Mean time between windows (ms), per device and metric. */
  every?: number;
  /** No window starts earlier than this after the start of the run (ms). */
  after?: number;
  /** Window length (ms). Default: one reporting interval for a spike, 20 for the others. */
  duration?: number;
  /**
   * In the metric's unit: the offset of a spike or level shift, the total change of a drift,
   * the standard deviation of a noise burst. Default: a multiple of the metric's typical
   * deviation with a random sign. Unused by stuck and dropout.
   */
  magnitude?: number;
  /** At most this many windows per device and metric. */
  count?: number;
  /** Share of the matching devices affected (chosen by the seed), 0..1. */
  fraction?: number;
}

/** An anomaly in effect on one metric of one device, in the device's true time. */
export interface AnomalyWindow {
  type: AnomalyType;
  metric: string;
  start: number;
  end: number;
  magnitude: number;
}

/**
 * A ground-truth label: an anomaly of `type` on `metric` of `device` in [start, end), epoch
 * ms in the time the device stamps on its readings. A device that went silent is labelled with
 * type `silence` and metric `*`.
 */
export interface Label {
  device: string;
  metric: string;
  type: AnomalyType | 'silence';
  start: number;
  end: number;
  magnitude?: number;
}
