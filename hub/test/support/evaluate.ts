import type { ReadingRecord } from '@iot-stream/contracts';
import { DetectionEngine } from '../../src/detect/engine.ts';
import type { EpisodeEvent } from '../../src/detect/engine-types.ts';
import type { Rule } from '../../src/detect/rules.ts';
import type { InjectedAnomaly, Point } from './synthetic.ts';

export interface Span {
  start: number;
  end: number;
}

export function record(deviceId: string, i: number, time: number, metrics: Record<string, number>) {
  const r: ReadingRecord = {
    v: 1,
    gatewayId: 'gw-1',
    gatewaySeq: i + 1,
    deviceId,
    session: 1,
    seq: i % 65_536,
    time,
    receivedAt: time + 5,
    metrics: Object.fromEntries(Object.entries(metrics).map(([k, value]) => [k, { value }])),
  };
  return r;
}

/**
 * Feeds the points to a detection engine with one rule, as metric `value` of device `d`, with
 * a fake clock ticking every tickMs between readings (0: no ticks), and returns the episodes.
 */
export function episodesOf(points: readonly Point[], rule: Rule, tickMs = 0): Span[] {
  const engine = new DetectionEngine({ rules: [rule] });
  const events: EpisodeEvent[] = [];
  let clock = points[0]?.time ?? 0;
  points.forEach((p, i) => {
    while (tickMs > 0 && clock + tickMs < p.time) {
      clock += tickMs;
      events.push(...engine.tick(clock).events);
    }
    events.push(...engine.process(record('d', i, p.time, { value: p.value })).events);
  });
  const last = points.at(-1)?.time ?? 0;
  const spans: Span[] = [];
  const open = new Map<string, number>();
  for (const e of events) {
    if (e.type === 'opened') open.set(e.episode.id, e.episode.start);
    if (e.type === 'closed') {
      open.delete(e.episode.id);
      spans.push({ start: e.episode.start, end: e.episode.end ?? e.time });
    }
  }
  for (const start of open.values()) spans.push({ start, end: last });
  return spans.sort((a, b) => a.start - b.start);
}

export interface Quality {
  episodes: number;
  truePositives: number;
  anomalies: number;
  detected: number;
  precision: number;
  recall: number;
}

/**
 * Event-level precision and recall: an episode is a true positive when it overlaps an injected
 * anomaly (extended by graceMs after its end, for the return to normal); an anomaly counts as
 * detected when an episode overlaps it.
 */
export function quality(
  episodes: readonly Span[],
  anomalies: readonly InjectedAnomaly[],
  graceMs: number,
): Quality {
  const overlaps = (e: Span, a: InjectedAnomaly) => e.start <= a.end + graceMs && e.end >= a.start;
  const truePositives = episodes.filter((e) => anomalies.some((a) => overlaps(e, a))).length;
  const detected = anomalies.filter((a) => episodes.some((e) => overlaps(e, a))).length;
  return {
    episodes: episodes.length,
    truePositives,
    anomalies: anomalies.length,
    detected,
    precision: episodes.length === 0 ? 1 : truePositives / episodes.length,
    recall: anomalies.length === 0 ? 1 : detected / anomalies.length,
  };
}

export function sum(qs: readonly Quality[]): Quality {
  const t = qs.reduce(
    (a, q) => ({
      episodes: a.episodes + q.episodes,
      truePositives: a.truePositives + q.truePositives,
      anomalies: a.anomalies + q.anomalies,
      detected: a.detected + q.detected,
    }),
    { episodes: 0, truePositives: 0, anomalies: 0, detected: 0 },
  );
  return {
    ...t,
    precision: t.episodes === 0 ? 1 : t.truePositives / t.episodes,
    recall: t.anomalies === 0 ? 1 : t.detected / t.anomalies,
  };
}
