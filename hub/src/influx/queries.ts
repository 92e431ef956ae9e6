import { TIME_MAX } from '@iot-stream/contracts';
import { escape as influxEscape } from 'influx';
import type {
  AnomalyQuery,
  DeviceSummary,
  GatewayStatus,
  HubQueries,
  SeriesPoint,
  SeriesQuery,
  StoredAnomaly,
} from '../ports.ts';
import { ANOMALIES, GATEWAY_STATUS, LONG_RP, RAW_RP, READINGS } from '../store/points.ts';
import { anomalyOf, gatewayStatusOf } from '../store/rows.ts';

/** Runs InfluxQL; the InfluxStore provides it. */
export interface InfluxQueryRunner {
  query<T>(sql: string): Promise<T[]>;
}

const lit = (s: string) => influxEscape.stringLit(s);
const range = (from: number, to: number) =>
  `time >= ${Math.trunc(from)}ms AND time <= ${Math.trunc(to)}ms`;
const ms = (t: Date | number) => (typeof t === 'number' ? t : t.getTime());
/**
 * `since` up to TIME_MAX: a point at or past it breaks the record contract (written by an
 * older hub) and is never a device's last-seen time or a gateway's newest status.
 */
const sinceWhere = (since: number) => `time >= ${Math.trunc(since)}ms AND time < ${TIME_MAX}ms`;

/**
 * The REST API's queries in InfluxQL. Every value that reaches a query is validated by the
 * route's schema and escaped here; every query is bounded by a time range and a LIMIT.
 */
export class InfluxQueries implements HubQueries {
  constructor(private readonly influx: InfluxQueryRunner) {}

  async series(q: SeriesQuery): Promise<SeriesPoint[]> {
    const metrics = q.metrics?.length
      ? ` AND (${q.metrics.map((m) => `"metric" = ${lit(m)}`).join(' OR ')})`
      : '';
    const rows = await this.influx.query<{ time: Date; value: number | null; metric: string }>(
      `SELECT ${q.fn}("value") AS "value" FROM "${RAW_RP}"."${READINGS}" ` +
        `WHERE "device" = ${lit(q.deviceId)}${metrics} AND ${range(q.from, q.to)} ` +
        `GROUP BY time(${Math.trunc(q.everyMs)}ms), "metric" fill(none) LIMIT ${q.limit}`,
    );
    return rows
      .filter((r) => r.value !== null)
      .map((r) => ({ time: ms(r.time), metric: r.metric, value: r.value as number }))
      .sort((a, b) => a.time - b.time || (a.metric < b.metric ? -1 : 1))
      .slice(0, q.limit);
  }

  async devices(since: number): Promise<DeviceSummary[]> {
    const [seen, open] = await Promise.all([
      this.influx.query<{ time: Date; value: number; device: string; gateway: string }>(
        `SELECT last("value") AS "value" FROM "${RAW_RP}"."${READINGS}" ` +
          `WHERE ${sinceWhere(since)} GROUP BY "device", "gateway"`,
      ),
      this.influx.query<{ device: string; n: number }>(
        `SELECT count("peak_score") AS "n" FROM "${LONG_RP}"."${ANOMALIES}" ` +
          `WHERE "state" = 'open' AND ${sinceWhere(since)} GROUP BY "device"`,
      ),
    ]);
    const byDevice = new Map<string, DeviceSummary>();
    for (const r of seen) {
      const prev = byDevice.get(r.device);
      if (prev && prev.lastSeen >= ms(r.time)) continue;
      byDevice.set(r.device, {
        deviceId: r.device,
        lastSeen: ms(r.time),
        gateway: r.gateway || null,
        openAnomalies: 0,
      });
    }
    for (const o of open) {
      const d = byDevice.get(o.device);
      if (d) d.openAnomalies = o.n;
    }
    return [...byDevice.values()].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
  }

  async anomalies(q: AnomalyQuery): Promise<StoredAnomaly[]> {
    const where = [range(q.from, q.to)];
    if (q.deviceId) where.push(`"device" = ${lit(q.deviceId)}`);
    if (q.severity) where.push(`"severity" = ${lit(q.severity)}`);
    const rows = await this.influx.query<Record<string, unknown> & { time: Date }>(
      `SELECT * FROM "${LONG_RP}"."${ANOMALIES}" WHERE ${where.join(' AND ')} ` +
        `ORDER BY time DESC LIMIT ${q.limit} OFFSET ${q.offset}`,
    );
    return rows.map((r) => anomalyOf(r, ms(r.time)));
  }

  async gateways(since: number): Promise<GatewayStatus[]> {
    const rows = await this.influx.query<Record<string, unknown> & { time: Date }>(
      `SELECT last("forwarded") AS "forwarded", "version", "kafka_connected", "backlog_rows", ` +
        `"oldest_received_at" FROM "${RAW_RP}"."${GATEWAY_STATUS}" ` +
        `WHERE ${sinceWhere(since)} GROUP BY "gateway"`,
    );
    return rows
      .map((r) => gatewayStatusOf(String(r.gateway), ms(r.time), r))
      .sort((a, b) => (a.gatewayId < b.gatewayId ? -1 : 1));
  }
}
