/**
 * The contract every detector implements. A detector watches one series (one device, one
 * metric, one rule), keeps bounded state, and scores every reading in [0, 1].
 *
 * Score mapping, the same for all detectors: each computes a non-negative statistic and its
 * threshold (|z| and 3, silence and 3 cadences, ...), r = statistic / threshold, and
 *
 *     score = r^2 / (1 + r^2)
 *
 * so the score is 0 for r = 0, exactly 0.5 at the threshold, 0.8 at twice the threshold, and
 * tends to 1; it is monotone in the statistic. A reading is anomalous when its score is at or
 * above the rule's `episode.openAt` (0.5 by default, i.e. statistic >= threshold).
 */

export type DetectorKind =
  | 'range'
  | 'rate'
  | 'flatline'
  | 'zscore'
  | 'robust-zscore'
  | 'ewma'
  | 'cusum'
  | 'heartbeat'
  | 'novelty';

export interface Scored {
  /** Anomaly score in [0, 1]; 0.5 exactly at the detector's threshold. */
  score: number;
  /** The detector's own statistic (|z|, rate per second, run length, silence in ms, ...). */
  statistic: number;
}

export interface Detector {
  readonly kind: DetectorKind;
  /** Scores one reading (event time ms, value), then learns from it. Times never go back. */
  update(time: number, value: number): Scored;
  /** Time-driven detectors (heartbeat) score the present moment without a reading. */
  tick?(now: number): Scored;
  /**
   * The episode this series' scores opened has closed: whatever the series does now is its
   * normal. Detectors with a reference that an anomaly can drag along (CUSUM, EWMA) restart it.
   */
  episodeClosed?(): void;
  /** JSON-serialisable state; `restore` of it on a fresh detector continues identically. */
  snapshot(): DetectorState;
  /** Replaces the state; throws StateError when the snapshot does not fit this detector. */
  restore(state: unknown): void;
}

export type DetectorState = Record<string, unknown>;

export const ZERO: Scored = Object.freeze({ score: 0, statistic: 0 });

/** r = statistic / threshold mapped to [0, 1]: r^2 / (1 + r^2). NaN and r <= 0 give 0. */
export function scoreFromRatio(r: number): number {
  if (!(r > 0)) return 0;
  if (r > 1e8) return 1; // r^2 would lose all precision (or overflow) anyway
  const r2 = r * r;
  return r2 / (1 + r2);
}

export function scored(statistic: number, threshold: number): Scored {
  const s = Number.isFinite(statistic) ? Math.max(0, statistic) : Number.MAX_VALUE;
  return { score: scoreFromRatio(s / threshold), statistic: s };
}

/**
 * Values beyond +/-1e100 are treated as +/-1e100 by the statistical detectors, so their
 * running sums stay finite (a sensor never reports such a value; a corrupt one might).
 */
export const VALUE_LIMIT = 1e100;

export function bounded(x: number): number {
  // + 0 turns -0 into 0, which is what a JSON snapshot would make of it anyway.
  return Math.min(VALUE_LIMIT, Math.max(-VALUE_LIMIT, x)) + 0;
}
