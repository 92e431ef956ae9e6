import type { DetectorKind } from './detector.ts';
import type { TransitionType } from './episodes.ts';
import type { Severity } from './rules.ts';

/** One reading of one series scored by one rule. */
export interface SeriesScore {
  ruleId: string;
  deviceId: string;
  metric: string;
  /** The reading's event time, or the tick time for time-driven detectors. */
  time: number;
  /** The reading's value; null for a tick. */
  value: number | null;
  score: number;
  statistic: number;
  /** score >= the rule's episode.openAt. */
  anomaly: boolean;
}

export interface Episode {
  /** `${ruleId}/${deviceId}/${metric}/${start}`: stable, so a replay rewrites the same point. */
  id: string;
  ruleId: string;
  deviceId: string;
  metric: string;
  detector: DetectorKind;
  severity: Severity;
  start: number;
  end: number | null;
  peakScore: number;
  peakTime: number;
  peakValue: number | null;
}

export interface EpisodeEvent {
  type: TransitionType;
  time: number;
  episode: Episode;
  /** For `closed`: `recovered`, or `evicted` when the series was forgotten (state cap). */
  reason?: 'recovered' | 'evicted';
}

export interface DetectionOutput {
  scores: SeriesScore[];
  events: EpisodeEvent[];
}

export interface DetectionCounters {
  /** Readings scored (one per matching rule and metric). */
  scored: number;
  /** Readings older than the series' newest one: not scored (detectors need time order). */
  outOfOrder: number;
  evictedSeries: number;
  /** Series in a snapshot whose rule was removed or changed, so their state was dropped. */
  droppedOnRestore: number;
}
