import type { ReadingRecord } from '@iot-stream/contracts';
import { FieldType, InfluxDB, type IPoint, escape as influxEscape } from 'influx';
import type { EpisodeEvent } from './detect/engine-types.ts';
import {
  AGGREGATES,
  ANOMALIES,
  aggregatePoints,
  episodePoints,
  gatewayStatusPoints,
  LONG_RP,
  RAW_RP,
  READINGS,
  readingPoints,
  type SiteOf,
} from './influx-points.ts';
import type { GatewayStatusRecord } from './kafka/status-source.ts';
import type { ReadingQuery, ReadingStore, StoredReading } from './ports.ts';
import type { Aggregate } from './stream/window-state.ts';

export interface InfluxStoreOptions {
  url: string;
  database: string;
  username?: string | undefined;
  password?: string | undefined;
  /** InfluxQL durations (`30d`, `INF`) of the raw and the long retention policy. */
  rawRetention?: string;
  aggregateRetention?: string;
}

/** What one processed batch writes. */
export interface BatchOutput {
  readings: readonly ReadingRecord[];
  aggregates: readonly Aggregate[];
  events: readonly EpisodeEvent[];
  /** Site tags (see sites.ts); without it every device is `unassigned`. */
  siteOf?: SiteOf;
}

/**
 * Readings in InfluxDB 1.x: measurement `readings`, one point per metric, tags device /
 * gateway / metric / unit (bounded cardinality: never a reading id), field `value`, plus
 * `seq` and `gateway_seq` as fields. The point time is the event time, so rewriting the same
 * record overwrites the same point instead of adding one.
 */
export class InfluxStore implements ReadingStore {
  private readonly influx: InfluxDB;

  constructor(private readonly options: InfluxStoreOptions) {
    const url = new URL(options.url);
    this.influx = new InfluxDB({
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 8086)),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      database: options.database,
      ...(options.username ? { username: options.username, password: options.password ?? '' } : {}),
      schema: [
        {
          measurement: READINGS,
          fields: {
            value: FieldType.FLOAT,
            seq: FieldType.INTEGER,
            gateway_seq: FieldType.INTEGER,
          },
          tags: ['device', 'gateway', 'metric', 'unit', 'site'],
        },
        {
          measurement: AGGREGATES,
          fields: {
            count: FieldType.INTEGER,
            min: FieldType.FLOAT,
            max: FieldType.FLOAT,
            mean: FieldType.FLOAT,
            stddev: FieldType.FLOAT,
            last: FieldType.FLOAT,
            revision: FieldType.INTEGER,
          },
          tags: ['device', 'metric', 'window', 'site'],
        },
        {
          measurement: ANOMALIES,
          fields: {
            id: FieldType.STRING,
            title: FieldType.STRING,
            text: FieldType.STRING,
            tags: FieldType.STRING,
            state: FieldType.STRING,
            last_event: FieldType.STRING,
            event_time: FieldType.INTEGER,
            peak_score: FieldType.FLOAT,
            peak_time: FieldType.INTEGER,
            peak_value: FieldType.FLOAT,
            end: FieldType.INTEGER,
          },
          tags: ['device', 'metric', 'rule', 'detector', 'severity', 'site'],
        },
      ],
    });
  }

  async init(): Promise<void> {
    const names = await this.influx.getDatabaseNames();
    const database = this.options.database;
    if (!names.includes(database)) await this.influx.createDatabase(database);
    const existing = await this.influx.showRetentionPolicies(database);
    const wanted = [
      { name: RAW_RP, duration: this.options.rawRetention ?? '30d', isDefault: true },
      { name: LONG_RP, duration: this.options.aggregateRetention ?? 'INF', isDefault: false },
    ];
    for (const rp of wanted) {
      const options = { database, duration: rp.duration, replication: 1, isDefault: rp.isDefault };
      if (existing.some((e) => e.name === rp.name))
        await this.influx.alterRetentionPolicy(rp.name, options);
      else await this.influx.createRetentionPolicy(rp.name, options);
    }
  }

  async ping(): Promise<boolean> {
    const hosts = await this.influx.ping(2000);
    return hosts.some((h) => h.online);
  }

  async write(records: readonly ReadingRecord[]): Promise<void> {
    await this.writeBatch({ readings: records, aggregates: [], events: [] });
  }

  /** Raw readings into the raw policy, aggregates and episodes into the long one. */
  async writeBatch(batch: BatchOutput): Promise<void> {
    const raw = readingPoints(batch.readings, batch.siteOf);
    const long: IPoint[] = [
      ...aggregatePoints(batch.aggregates, batch.siteOf),
      ...episodePoints(batch.events, batch.siteOf),
    ];
    await Promise.all([
      raw.length > 0 && this.writePoints(raw, RAW_RP),
      long.length > 0 && this.writePoints(long, LONG_RP),
    ]);
  }

  /** One `hub_health` point into the raw policy. */
  async writeHealth(point: IPoint): Promise<void> {
    await this.writePoints([point], RAW_RP);
  }

  /** Gateway status records into the raw policy. */
  async writeGatewayStatus(records: readonly GatewayStatusRecord[]) {
    if (records.length > 0) await this.writePoints(records.flatMap(gatewayStatusPoints), RAW_RP);
  }

  private async writePoints(points: IPoint[], retentionPolicy: string): Promise<void> {
    for (let i = 0; i < points.length; i += 5000)
      await this.influx.writePoints(points.slice(i, i + 5000), {
        precision: 'ms',
        retentionPolicy,
      });
  }

  /** InfluxQL for the API's other queries (already escaped by the caller). */
  query<T>(sql: string): Promise<T[]> {
    return this.influx.query<T>(sql, { precision: 'ms' }) as Promise<T[]>;
  }

  async readings(query: ReadingQuery): Promise<StoredReading[]> {
    const sql =
      `SELECT "value", "seq", "gateway_seq" FROM "${READINGS}" ` +
      `WHERE "device" = ${influxEscape.stringLit(query.deviceId)} ` +
      `AND time >= ${Math.trunc(query.from)}ms AND time <= ${Math.trunc(query.to)}ms ` +
      `GROUP BY "metric", "unit", "gateway" ORDER BY time ASC LIMIT ${query.limit}`;
    const rows = await this.influx.query<{
      time: Date;
      value: number;
      seq: number | null;
      gateway_seq: number | null;
      metric: string;
      unit: string;
      gateway: string;
    }>(sql, { precision: 'ms' });
    const byReading = new Map<string, StoredReading>();
    for (const row of rows) {
      const time = row.time.getTime();
      const id = `${time}/${row.gateway}`;
      let reading = byReading.get(id);
      if (!reading) {
        reading = {
          time,
          gatewayId: row.gateway,
          gatewaySeq: row.gateway_seq,
          seq: row.seq,
          metrics: {},
        };
        byReading.set(id, reading);
      }
      reading.metrics[row.metric] = row.unit
        ? { value: row.value, unit: row.unit }
        : { value: row.value };
    }
    return [...byReading.values()].sort((a, b) => a.time - b.time).slice(0, query.limit);
  }
}
