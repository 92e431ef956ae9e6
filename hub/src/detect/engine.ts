import type { ReadingRecord } from '@iot-stream/contracts';
import { type Static, Type } from '@sinclair/typebox';
import { sequence } from '../state/json-sequence.ts';
import { RecencyList } from '../state/recency-list.ts';
import { checkState } from '../state/state.ts';
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
  /**
   * Report every reading's score in `scores` (default true). Off where only the episode events
   * are used (the hub's pipeline): the scoring is the same, the per-reading objects are not made.
   */
  scores?: boolean;
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
  /** Neighbours in the recency list (least recently updated first). */
  older: Series | undefined;
  newer: Series | undefined;
}

/** The rules watching one device's metric, and their series (index-aligned, made on first use). */
interface Slot {
  rules: CompiledRule[];
  series: (Series | undefined)[];
  live: number;
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
  /** The series least recently updated first: eviction, tick and snapshot order. */
  private readonly recency = new RecencyList<Series>();
  /** deviceId -> metric -> the rules and series of that device's metric. */
  private slots = new Map<string, Map<string, Slot>>();
  private readonly rules: CompiledRule[];
  private readonly maxSeries: number;
  private readonly scores: boolean;
  private readonly matchCache = new Map<string, CompiledRule[]>();

  constructor(options: DetectionEngineOptions) {
    this.rules = options.rules.map((rule) => ({
      rule,
      metric: globMatcher(rule.metric),
      device: rule.devices === null ? () => true : globMatcher(rule.devices),
      fingerprint: canonical([rule.detector, rule.params, rule.episode]),
    }));
    this.maxSeries = Math.max(1, options.maxSeries ?? 100_000);
    this.scores = options.scores ?? true;
  }

  /** Scores every metric of one reading with every rule that applies to it. */
  process(record: ReadingRecord): DetectionOutput {
    const out: DetectionOutput = { scores: [], events: [] };
    const { deviceId, metrics, time } = record;
    for (const metric in metrics) {
      if (!Object.hasOwn(metrics, metric)) continue; // for-in: no array per record
      const slot = this.slotFor(deviceId, metric);
      if (slot === undefined) continue;
      const m = metrics[metric] as (typeof metrics)[string];
      for (let i = 0; i < slot.rules.length; i += 1) {
        const s = this.seriesAt(slot, i, deviceId, metric, out);
        if (s.lastTime !== null && time < s.lastTime) {
          this.counters.outOfOrder += 1;
          continue;
        }
        s.lastTime = time;
        this.counters.scored += 1;
        const r = s.detector.update(time, m.value);
        if (this.scores) out.scores.push(this.scoreOf(s, time, m.value, r.score, r.statistic));
        this.emit(s, s.tracker.observe(time, r.score, m.value), out);
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
    for (const s of this.recency) {
      if (s.detector.tick) {
        const r = s.detector.tick(now);
        if (this.scores) out.scores.push(this.scoreOf(s, now, null, r.score, r.statistic));
        this.emit(s, s.tracker.observe(now, r.score, null), out);
      } else {
        this.emit(s, s.tracker.tick(now), out);
      }
    }
    return out;
  }

  snapshot(): DetectionSnapshot;
  /** `lazy`: for encodeJson, which makes each series' part as it writes it. */
  snapshot(lazy: boolean): unknown;
  snapshot(lazy = false): unknown {
    return {
      v: 1,
      counters: { ...this.counters },
      series: sequence(this.recency, seriesSnapshot, lazy),
    };
  }

  /** Restores a snapshot; series of rules that were removed or changed start afresh. */
  restore(snapshot: unknown): void {
    const snap = checkState(SnapshotSchema, snapshot, 'detection engine');
    const byId = new Map(this.rules.map((r) => [r.rule.id, r]));
    const restored: Series[] = [];
    const seen = new Map<string, number>();
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
      // A key seen twice keeps its first place and the later state (as Map.set would).
      const key = `${rule.rule.id}|${e.deviceId}|${e.metric}`;
      const at = seen.get(key);
      if (at === undefined) {
        seen.set(key, restored.length);
        restored.push(s);
      } else restored[at] = s;
    }
    this.recency.clear();
    this.slots = new Map();
    for (const s of restored) {
      this.recency.push(s);
      // A series whose rule no longer watches its metric (globs changed) stays in the recency
      // list (ticks, eviction, snapshots), as before, but is not updated by readings.
      const slot = this.slotFor(s.deviceId, s.metric);
      const i = slot ? slot.rules.indexOf(s.rule) : -1;
      if (slot && i >= 0) this.attach(slot, i, s);
    }
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

  /** The rules (and series) of a device's metric; undefined when no rule watches it. */
  private slotFor(deviceId: string, metric: string): Slot | undefined {
    const found = this.slots.get(deviceId)?.get(metric);
    if (found) return found;
    const rules = this.rulesFor(deviceId, metric);
    if (rules.length === 0) return undefined;
    const slot: Slot = { rules, series: rules.map(() => undefined), live: 0 };
    let byMetric = this.slots.get(deviceId);
    if (!byMetric) {
      byMetric = new Map();
      this.slots.set(deviceId, byMetric);
    }
    byMetric.set(metric, slot);
    return slot;
  }

  /** The slot's i-th series, now the most recently updated (made, evicting the oldest, if new). */
  private seriesAt(
    slot: Slot,
    i: number,
    deviceId: string,
    metric: string,
    out: DetectionOutput,
  ): Series {
    let s = slot.series[i];
    if (s) {
      this.recency.touch(s);
      return s;
    }
    if (this.recency.size >= this.maxSeries) this.evictOldest(out);
    s = this.newSeries(slot.rules[i] as CompiledRule, deviceId, metric);
    this.recency.push(s);
    // The eviction may have emptied and dropped this very slot: put it back.
    let byMetric = this.slots.get(deviceId);
    if (!byMetric) {
      byMetric = new Map();
      this.slots.set(deviceId, byMetric);
    }
    if (byMetric.get(metric) !== slot) byMetric.set(metric, slot);
    this.attach(slot, i, s);
    return s;
  }

  private attach(slot: Slot, i: number, s: Series): void {
    if (slot.series[i] === undefined) slot.live += 1;
    slot.series[i] = s;
  }

  private evictOldest(out: DetectionOutput): void {
    const old = this.recency.oldest as Series;
    this.emit(old, old.tracker.forceClose(old.lastTime ?? 0), out);
    this.recency.remove(old);
    const byMetric = this.slots.get(old.deviceId);
    const slot = byMetric?.get(old.metric);
    const i = slot ? slot.series.indexOf(old) : -1;
    if (slot && i >= 0) {
      slot.series[i] = undefined;
      slot.live -= 1;
      if (slot.live === 0) {
        byMetric?.delete(old.metric);
        if (byMetric?.size === 0) this.slots.delete(old.deviceId);
      }
    }
    this.counters.evictedSeries += 1;
  }

  private newSeries(rule: CompiledRule, deviceId: string, metric: string): Series {
    const detector = DETECTORS[rule.rule.detector].create(rule.rule.params);
    const tracker = new EpisodeTracker(rule.rule.episode);
    return {
      rule,
      deviceId,
      metric,
      lastTime: null,
      detector,
      tracker,
      older: undefined,
      newer: undefined,
    };
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
    if (t.type === 'closed') s.detector.episodeClosed?.();
  }
}

/** JSON with object keys sorted, so equal settings give equal strings whatever their order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

function seriesSnapshot(s: Series): DetectionSnapshot['series'][number] {
  return {
    rule: s.rule.rule.id,
    fingerprint: s.rule.fingerprint,
    deviceId: s.deviceId,
    metric: s.metric,
    lastTime: s.lastTime,
    detector: s.detector.snapshot(),
    episode: s.tracker.snapshot(),
  };
}
