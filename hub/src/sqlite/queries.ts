import { TIME_MAX } from '@iot-stream/contracts';
import type Database from 'better-sqlite3';
import type {
  AggregateFn,
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

/** What SqliteQueries reads: the SqliteStore's open database. */
export interface SqliteQuerySource {
  readonly db: Database.Database;
}

type Fields = Record<string, unknown>;

/** Parameters: device, metrics (a JSON array, or null: all), from, to, every (ms). */
const SERIES_ROWS = `
  FROM series s JOIN points p ON p.series_id = s.id
  WHERE s.measurement = '${READINGS}' AND s.rp = '${RAW_RP}' AND s.device = @device
    AND (@metrics IS NULL OR s.metric IN (SELECT value FROM json_each(@metrics)))
    AND p.time >= @from AND p.time <= @to AND p.value IS NOT NULL`;
/** GROUP BY time(every): buckets aligned to the epoch, labelled with their start. */
const BUCKET = '(p.time - ((p.time % @every) + @every) % @every)';
const SQL_FNS = { mean: 'avg', min: 'min', max: 'max', sum: 'sum', count: 'count' } as const;
type SqlFn = keyof typeof SQL_FNS;
const isSqlFn = (fn: AggregateFn): fn is SqlFn => Object.hasOwn(SQL_FNS, fn);

/**
 * The REST API's queries (InfluxQueries' InfluxQL) over the SQLite store, with the same
 * results for the same points: buckets aligned to the epoch and labelled with their start,
 * empty buckets left out (fill(none)), `stddev` the sample one (none for a single value),
 * `first` / `last` preferring the greater value on equal times, `median` the mean of the two
 * middle values, open anomalies counted per device, the newest status per gateway.
 */
export class SqliteQueries implements HubQueries {
  private readonly sqlSeries: Record<SqlFn, Database.Statement>;
  private readonly rawSeries: Database.Statement;
  private readonly lastSeen: Database.Statement;
  private readonly openAnomalies: Database.Statement;
  private readonly anomalyRows: Database.Statement;
  private readonly gatewayRows: Database.Statement;

  constructor(source: SqliteQuerySource) {
    const db = source.db;
    const sqlSeries = (fn: string) =>
      db.prepare(
        `SELECT ${BUCKET} AS time, s.metric, ${fn}(p.value) AS value
         ${SERIES_ROWS} GROUP BY 1, 2 ORDER BY 1, 2 LIMIT @limit`,
      );
    this.sqlSeries = {
      mean: sqlSeries(SQL_FNS.mean),
      min: sqlSeries(SQL_FNS.min),
      max: sqlSeries(SQL_FNS.max),
      sum: sqlSeries(SQL_FNS.sum),
      count: sqlSeries(SQL_FNS.count),
    };
    this.rawSeries = db
      .prepare(
        `SELECT ${BUCKET} AS bucket, s.metric, p.time, p.value
       ${SERIES_ROWS} ORDER BY 2, 3`,
      )
      .raw(true);
    // Newest point of each readings series (the primary key's last entry, no scan). Times at
    // or past TIME_MAX break the record contract (an older hub, or a file edited by hand):
    // skipped, so such a point never becomes a device's last-seen time.
    this.lastSeen = db.prepare(
      `SELECT device, gateway, time FROM (
         SELECT s.device, json_extract(s.tags, '$.gateway') AS gateway,
                (SELECT time FROM points WHERE series_id = s.id AND time < ${TIME_MAX}
                 ORDER BY time DESC LIMIT 1) AS time
         FROM series s WHERE s.measurement = '${READINGS}' AND s.rp = '${RAW_RP}')
       WHERE time >= ? ORDER BY device, gateway`,
    );
    this.openAnomalies = db.prepare(
      `SELECT s.device, count(*) AS n FROM series s JOIN points p ON p.series_id = s.id
       WHERE s.measurement = '${ANOMALIES}' AND s.rp = '${LONG_RP}'
         AND p.time >= ? AND p.time < ${TIME_MAX}
         AND json_extract(p.fields, '$.state') = 'open'
         AND json_extract(p.fields, '$.peak_score') IS NOT NULL
       GROUP BY s.device`,
    );
    // Ties in start time: by series key, descending (what InfluxDB does for one point per
    // series; it leaves the order of ties otherwise unspecified).
    this.anomalyRows = db.prepare(
      `SELECT s.tags, p.time, p.fields FROM series s JOIN points p ON p.series_id = s.id
       WHERE s.measurement = '${ANOMALIES}' AND s.rp = '${LONG_RP}'
         AND p.time >= @from AND p.time <= @to
         AND (@device IS NULL OR s.device = @device)
         AND (@severity IS NULL OR json_extract(s.tags, '$.severity') = @severity)
       ORDER BY p.time DESC, s.tags DESC LIMIT @limit OFFSET @offset`,
    );
    // last("forwarded") GROUP BY "gateway": the newest point that has `forwarded`, below
    // TIME_MAX as for lastSeen.
    this.gatewayRows = db.prepare(
      `SELECT s.tags, p.time, p.fields FROM series s JOIN points p ON p.series_id = s.id
       WHERE s.measurement = '${GATEWAY_STATUS}' AND s.rp = '${RAW_RP}'
         AND p.time = (SELECT q.time FROM points q WHERE q.series_id = s.id AND q.time >= ?
                       AND q.time < ${TIME_MAX}
                       AND json_extract(q.fields, '$.forwarded') IS NOT NULL
                       ORDER BY q.time DESC LIMIT 1)`,
    );
  }

  async series(q: SeriesQuery): Promise<SeriesPoint[]> {
    const params = {
      device: q.deviceId,
      metrics: q.metrics?.length ? JSON.stringify(q.metrics) : null,
      from: Math.trunc(q.from),
      to: Math.trunc(q.to),
      every: Math.trunc(q.everyMs),
    };
    if (isSqlFn(q.fn))
      return bucketOrder(this.sqlSeries[q.fn].all({ ...params, limit: q.limit }) as SeriesPoint[]);
    const reduce = REDUCERS[q.fn];
    const out: SeriesPoint[] = [];
    // LIMIT counts each metric's buckets in time order, including those InfluxDB answers with
    // null (stddev of one value) and InfluxQueries then drops.
    let group: { bucket: number; metric: string; times: number[]; values: number[] } | undefined;
    let metricBuckets = 0;
    const flush = () => {
      if (!group || metricBuckets > q.limit) return;
      const value = reduce(group.times, group.values);
      if (value !== null) out.push({ time: group.bucket, metric: group.metric, value });
    };
    const rows = this.rawSeries.iterate(params) as Iterable<[number, string, number, number]>;
    for (const [bucket, metric, time, value] of rows) {
      if (group?.bucket !== bucket || group.metric !== metric) {
        flush();
        metricBuckets = group?.metric === metric ? metricBuckets + 1 : 1;
        group = { bucket, metric, times: [], values: [] };
      }
      if (metricBuckets > q.limit) continue;
      group.times.push(time);
      group.values.push(value);
    }
    flush();
    return bucketOrder(out).slice(0, q.limit);
  }

  async devices(since: number): Promise<DeviceSummary[]> {
    const seen = this.lastSeen.all(Math.trunc(since)) as {
      device: string;
      gateway: string | null;
      time: number;
    }[];
    const byDevice = new Map<string, DeviceSummary>();
    for (const r of seen) {
      // Several series per (device, gateway): their newest point is the pair's last().
      const prev = byDevice.get(r.device);
      if (prev && prev.lastSeen >= r.time) continue;
      byDevice.set(r.device, {
        deviceId: r.device,
        lastSeen: r.time,
        gateway: r.gateway || null,
        openAnomalies: 0,
      });
    }
    const open = this.openAnomalies.all(Math.trunc(since)) as { device: string; n: number }[];
    for (const o of open) {
      const d = byDevice.get(o.device);
      if (d) d.openAnomalies = o.n;
    }
    return [...byDevice.values()].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
  }

  async anomalies(q: AnomalyQuery): Promise<StoredAnomaly[]> {
    const rows = this.anomalyRows.all({
      from: Math.trunc(q.from),
      to: Math.trunc(q.to),
      device: q.deviceId || null,
      severity: q.severity || null,
      limit: q.limit,
      offset: q.offset,
    }) as { tags: string; time: number; fields: string }[];
    return rows.map((row) => {
      const r: Fields = { ...JSON.parse(row.tags), ...JSON.parse(row.fields) };
      return anomalyOf(r, row.time);
    });
  }

  async gateways(since: number): Promise<GatewayStatus[]> {
    const rows = this.gatewayRows.all(Math.trunc(since)) as {
      tags: string;
      time: number;
      fields: string;
    }[];
    return rows
      .map((row) => {
        const tags = JSON.parse(row.tags) as Fields;
        return gatewayStatusOf(String(tags.gateway ?? ''), row.time, JSON.parse(row.fields));
      })
      .sort((a, b) => (a.gatewayId < b.gatewayId ? -1 : 1));
  }
}

/** InfluxQueries' order: by bucket, then metric. */
function bucketOrder(points: SeriesPoint[]): SeriesPoint[] {
  return points.sort((a, b) => a.time - b.time || (a.metric < b.metric ? -1 : 1));
}

type Reducer = (times: readonly number[], values: readonly number[]) => number | null;

/** InfluxQL's first() / last(): the earliest / latest point, the greater value on a tie. */
function selector(later: (a: number, b: number) => boolean): Reducer {
  return (times, values) => {
    let t = times[0] as number;
    let v = values[0] as number;
    for (let i = 1; i < times.length; i += 1) {
      const ti = times[i] as number;
      const vi = values[i] as number;
      if (later(ti, t) || (ti === t && vi > v)) {
        t = ti;
        v = vi;
      }
    }
    return v;
  };
}

const REDUCERS: Record<Exclude<AggregateFn, SqlFn>, Reducer> = {
  first: selector((a, b) => a < b),
  last: selector((a, b) => a > b),
  median: (_, values) => {
    const a = [...values].sort((x, y) => x - y);
    const mid = a.length >> 1;
    if (a.length % 2 === 1) return a[mid] as number;
    const lo = a[mid - 1] as number;
    return lo + ((a[mid] as number) - lo) / 2;
  },
  /** Sample standard deviation as InfluxDB computes it; null (no point) for one value. */
  stddev: (_, values) => {
    if (values.length < 2) return null;
    let mean = 0;
    values.forEach((v, i) => {
      mean += (v - mean) / (i + 1);
    });
    let variance = 0;
    for (const v of values) variance += (v - mean) ** 2;
    return Math.sqrt(variance / (values.length - 1));
  },
};
