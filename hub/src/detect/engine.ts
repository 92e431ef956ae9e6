import type { ReadingRecord } from '@iot-stream/contracts';
import { type Static, Type } from '@sinclair/typebox';
import { checkState } from '../stream/state.ts';
import type { Detector } from './detector.ts';
import type {
  DetectionCounters,
  DetectionOutput,
  EpisodeEvent,
  SeriesScore,
} from './engine-types.ts';
import { EpisodeTracker, type Transition } from './episodes.ts';
import { globMatcher } from './glob.ts';
import { DETECTORS } from './registry.ts';
import type { Rule } from './rules.ts';

export interface DetectionEngineOptions {
  rules: readonly Rule[];
  /** Series (rule x device x metric) kept at once; least recently updated evicted first. */
  maxSeries?: number;
}

interface CompiledRule {
  rule: Rule;
  metric: (name: string) => boolean;
  device: (id: string) => boolean;
  /** Detector, parameters and episode settings: state is only restored into the same. */
  fingerprint: string;
}

interface Series {
  rule: CompiledRule;
  deviceId: string;
  metric: string;
  lastTime: number | null;
  detector: Detector;
  tracker: EpisodeTracker;
}

const SnapshotSchema = Type.Object({
  v: Type.Literal(1),
  counters: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  series: Type.Array(
    Type.Object({
      rule: Type.String(),
      fingerprint: Type.String(),
      deviceId: Type.String(),
      metric: Type.String(),
      lastTime: Type.Union([Type.Number(), Type.Null()]),
      detector: Type.Record(Type.String(), Type.Unknown()),
      episode: Type.Unknown(),
    }),
  ),
});
export type DetectionSnapshot = Static<typeof SnapshotSchema>;

/**
 * Runs the rules' detectors per device and metric and turns their scores into episodes.
 * Pure and deterministic: readings and ticks in the same order give the same scores, events
 * and snapshot. State is bounded by maxSeries (default 100,000) times the largest detector.
 */
export class DetectionEngine {
  counters: DetectionCounters = { scored: 0, outOfOrder: 0, evictedSeries: 0, droppedOnRestore: 0 };
  private series = new Map<string, Series>();
  private readonly rules: CompiledRule[];
  private readonly maxSeries: number;
  private readonly matchCache = new Map<string, CompiledRule[]>();

  constructor(options: DetectionEngineOptions) {
    this.rules = options.rules.map((rule) => ({
      rule,
      metric: globMatcher(rule.metric),
      device: rule.devices === null ? () => true : globMatcher(rule.devices),
      fingerprint: canonical([rule.detector, rule.params, rule.episode]),
    }));
    this.maxSeries = Math.max(1, options.maxSeries ?? 100_000);
  }

  /** Scores every metric of one reading with every rule that applies to it. */
  process(record: ReadingRecord): DetectionOutput {
    const out: DetectionOutput = { scores: [], events: [] };
    for (const [metric, m] of Object.entries(record.metrics)) {
      for (const rule of this.rulesFor(record.deviceId, metric)) {
        const s = this.seriesFor(rule, record.deviceId, metric, out);
        if (s.lastTime !== null && record.time < s.lastTime) {
          this.counters.outOfOrder += 1;
          continue;
        }
        s.lastTime = record.time;
        this.counters.scored += 1;
        const r = s.detector.update(record.time, m.value);
        out.scores.push(this.scoreOf(s, record.time, m.value, r.score, r.statistic));
        this.emit(s, s.tracker.observe(record.time, r.score, m.value), out);
      }
    }
    return out;
  }

  /**
   * Lets time pass: time-driven detectors (heartbeat) score the silence, and episodes whose
   * quiet period is over close. `now` comes from the caller; for replayable output derive it
   * from the records (e.g. the newest receivedAt of the partition), not from the wall clock.
   */
  tick(now: number): DetectionOutput {
    const out: DetectionOutput = { scores: [], events: [] };
    for (const s of this.series.values()) {
      if (s.detector.tick) {
        const r = s.detector.tick(now);
        out.scores.push(this.scoreOf(s, now, null, r.score, r.statistic));
        this.emit(s, s.tracker.observe(now, r.score, null), out);
      } else {
        this.emit(s, s.tracker.tick(now), out);
      }
    }
    return out;
  }

  snapshot(): DetectionSnapshot {
    return {
      v: 1,
      counters: { ...this.counters },
      series: [...this.series.values()].map((s) => ({
        rule: s.rule.rule.id,
        fingerprint: s.rule.fingerprint,
        deviceId: s.deviceId,
        metric: s.metric,
        lastTime: s.lastTime,
        detector: s.detector.snapshot(),
        episode: s.tracker.snapshot(),
      })),
    };
  }

  /** Restores a snapshot; series of rules that were removed or changed start afresh. */
  restore(snapshot: unknown): void {
    const snap = checkState(SnapshotSchema, snapshot, 'detection engine');
    const byId = new Map(this.rules.map((r) => [r.rule.id, r]));
    const series = new Map<string, Series>();
    const counters = { ...this.counters, ...snap.counters } as DetectionCounters;
    for (const e of snap.series) {
      const rule = byId.get(e.rule);
      if (!rule || rule.fingerprint !== e.fingerprint) {
        counters.droppedOnRestore += 1;
        continue;
      }
      const s = this.newSeries(rule, e.deviceId, e.metric);
      s.lastTime = e.lastTime;
      s.detector.restore(e.detector);
      s.tracker.restore(e.episode);
      series.set(seriesKey(rule, e.deviceId, e.metric), s);
    }
    this.series = series;
    this.counters = counters;
  }

  private rulesFor(deviceId: string, metric: string): CompiledRule[] {
    const key = `${deviceId}|${metric}`;
    let found = this.matchCache.get(key);
    if (!found) {
      found = this.rules.filter((r) => r.metric(metric) && r.device(deviceId));
      if (this.matchCache.size >= 10_000) this.matchCache.clear(); // only a cache
      this.matchCache.set(key, found);
    }
    return found;
  }

  private seriesFor(rule: CompiledRule, deviceId: string, metric: string, out: DetectionOutput) {
    const key = seriesKey(rule, deviceId, metric);
    let s = this.series.get(key);
    if (s) {
      this.series.delete(key); // re-insert: Map order is least recently updated first
    } else {
      if (this.series.size >= this.maxSeries) this.evictOldest(out);
      s = this.newSeries(rule, deviceId, metric);
    }
    this.series.set(key, s);
    return s;
  }

  private evictOldest(out: DetectionOutput): void {
    const [key, old] = this.series.entries().next().value as [string, Series];
    this.emit(old, old.tracker.forceClose(old.lastTime ?? 0), out);
    this.series.delete(key);
    this.counters.evictedSeries += 1;
  }

  private newSeries(rule: CompiledRule, deviceId: string, metric: string): Series {
    const detector = DETECTORS[rule.rule.detector].create(rule.rule.params);
    const tracker = new EpisodeTracker(rule.rule.episode);
    return { rule, deviceId, metric, lastTime: null, detector, tracker };
  }

  private scoreOf(s: Series, time: number, value: number | null, score: number, stat: number) {
    const anomaly = score >= s.rule.rule.episode.openAt;
    const { id: ruleId } = s.rule.rule;
    return {
      ruleId,
      deviceId: s.deviceId,
      metric: s.metric,
      time,
      value,
      score,
      statistic: stat,
      anomaly,
    } satisfies SeriesScore;
  }

  private emit(s: Series, t: Transition | undefined, out: DetectionOutput): void {
    if (!t) return;
    const { rule } = s.rule;
    const event: EpisodeEvent = {
      type: t.type,
      time: t.time,
      episode: {
        id: `${rule.id}/${s.deviceId}/${s.metric}/${t.start}`,
        ruleId: rule.id,
        deviceId: s.deviceId,
        metric: s.metric,
        detector: rule.detector,
        severity: rule.severity,
        start: t.start,
        end: t.end,
        peakScore: t.peakScore,
        peakTime: t.peakTime,
        peakValue: t.peakValue,
      },
    };
    if (t.reason) event.reason = t.reason;
    out.events.push(event);
  }
}

function seriesKey(rule: CompiledRule, deviceId: string, metric: string): string {
  return `${rule.rule.id}|${deviceId}|${metric}`;
}

/** JSON with object keys sorted, so equal settings give equal strings whatever their order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
