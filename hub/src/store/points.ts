import type { GatewayStatusRecord, ReadingRecord } from '@iot-stream/contracts';
import type { EpisodeEvent } from '../detect/engine-types.ts';
import type { SiteOf } from '../ports.ts';
import { UNASSIGNED_SITE } from '../processing/sites.ts';
import type { Aggregate } from '../windows/window-state.ts';

/** A device's site tag; without one, every device is `unassigned`. */
const noSites: SiteOf = () => UNASSIGNED_SITE;

export const READINGS = 'readings';
export const AGGREGATES = 'aggregates';
export const ANOMALIES = 'anomalies';
/** Retention policies: raw readings (default policy) and aggregates / anomalies. */
export const RAW_RP = 'raw';
export const LONG_RP = 'long';

/**
 * Pure point builders. Every timestamp comes from the data (event time, window start, episode
 * start), and every tag is bounded (device, gateway, metric, unit, window, rule, detector,
 * severity; never a reading or episode id), so rewriting the same records overwrites the same
 * points: a replay leaves InfluxDB as it was.
 */
/**
 * One point of a measurement, as both stores keep it (InfluxDB's data model: a series is the
 * measurement and its tags, a point its fields at a time). The InfluxDB adapter writes these as
 * they are (they fit the `influx` library's IPoint); the SQLite store keeps them in tables.
 */
export interface Sample {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number | string | boolean>;
  /** Epoch milliseconds. */
  timestamp: number;
}

export function readingPoints(records: readonly ReadingRecord[], siteOf = noSites): Sample[] {
  const points: Sample[] = [];
  for (const r of records) {
    const site = siteOf(r.deviceId);
    for (const [metric, m] of Object.entries(r.metrics)) {
      points.push({
        measurement: READINGS,
        tags: {
          device: r.deviceId,
          gateway: r.gatewayId,
          metric,
          site,
          ...(m.unit ? { unit: m.unit } : {}),
        },
        fields: {
          value: m.value,
          gateway_seq: r.gatewaySeq,
          ...(r.seq === undefined ? {} : { seq: r.seq }),
        },
        timestamp: r.time,
      });
    }
  }
  return points;
}

/** `60s`, `1h`: the window tag. */
export function windowTag(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

export function aggregatePoints(aggregates: readonly Aggregate[], siteOf = noSites): Sample[] {
  return aggregates.map((a) => ({
    measurement: AGGREGATES,
    tags: {
      device: a.deviceId,
      metric: a.metric,
      window: windowTag(a.windowMs),
      site: siteOf(a.deviceId),
    },
    fields: {
      count: a.count,
      min: a.min,
      max: a.max,
      mean: a.mean,
      stddev: a.stddev,
      last: a.last,
      revision: a.revision,
    },
    timestamp: a.start,
  }));
}

/**
 * One point per episode at its start time (a Grafana annotation: title, text, tags), rewritten
 * with each event so it shows the newest state; the id is a field, not a tag.
 */
export function episodePoints(events: readonly EpisodeEvent[], siteOf = noSites): Sample[] {
  return events.map(({ type, time, episode: e }) => ({
    measurement: ANOMALIES,
    tags: {
      device: e.deviceId,
      metric: e.metric,
      rule: e.ruleId,
      detector: e.detector,
      severity: e.severity,
      site: siteOf(e.deviceId),
    },
    fields: {
      id: e.id,
      title: `${e.severity}: ${e.detector} anomaly on ${e.deviceId} ${e.metric}`,
      text: `rule ${e.ruleId}, peak score ${e.peakScore.toFixed(3)} at ${new Date(e.peakTime).toISOString()}${e.peakValue === null ? '' : ` (value ${e.peakValue})`}`,
      tags: [e.severity, e.detector, e.deviceId, e.metric].join(','),
      state: type === 'closed' ? 'closed' : 'open',
      last_event: type,
      event_time: time,
      peak_score: e.peakScore,
      peak_time: e.peakTime,
      ...(e.peakValue === null ? {} : { peak_value: e.peakValue }),
      ...(e.end === null ? {} : { end: e.end }),
    },
    timestamp: e.start,
  }));
}

export const GATEWAY_STATUS = 'gateway_status';
/** The hub's own health, written by health-reporter.ts at wall-clock time. */
export const HUB_HEALTH = 'hub_health';
export const GATEWAY_QUARANTINE = 'gateway_quarantine';
const REASON_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * A gateway status record (topic iot.gateway-status), at the gateway's own time: one
 * `gateway_status` point, and one `gateway_quarantine` point per reason code (at most 50 codes,
 * code-shaped only, so a confused gateway cannot blow up series cardinality).
 */
export function gatewayStatusPoints(s: GatewayStatusRecord): Sample[] {
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const fields: Record<string, string | number | boolean> = {};
  const put = (k: string, v: string | number | boolean | undefined) => {
    if (v !== undefined) fields[k] = v;
  };
  put('version', s.version);
  put('kafka_connected', s.kafka?.connected);
  put('backlog_rows', n(s.outbox?.backlogRows));
  put('oldest_received_at', n(s.outbox?.oldestReceivedAt));
  put('oldest_age_ms', n(s.outbox?.oldestAgeMs) ?? (s.outbox?.backlogRows === 0 ? 0 : undefined));
  put('quarantined', n(s.outbox?.quarantined));
  put('forwarded', n(s.forwarder?.forwarded) ?? 0);
  put('forward_failures', n(s.forwarder?.failures));
  const points: Sample[] = [
    { measurement: GATEWAY_STATUS, tags: { gateway: s.gatewayId }, fields, timestamp: s.time },
  ];
  const codes = Object.entries(s.outbox?.quarantinedByCode ?? {})
    .filter(([code, count]) => REASON_CODE.test(code) && n(count) !== undefined)
    .slice(0, 50);
  for (const [reason, count] of codes)
    points.push({
      measurement: GATEWAY_QUARANTINE,
      tags: { gateway: s.gatewayId, reason },
      fields: { count },
      timestamp: s.time,
    });
  return points;
}
