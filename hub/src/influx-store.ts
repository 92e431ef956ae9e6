import type { ReadingRecord } from '@iot-stream/contracts';
import { FieldType, InfluxDB, type IPoint, escape as influxEscape } from 'influx';
import type { ReadingQuery, ReadingStore, StoredReading } from './ports.ts';

export interface InfluxStoreOptions {
  url: string;
  database: string;
  username?: string | undefined;
  password?: string | undefined;
}

const READINGS = 'readings';

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
          tags: ['device', 'gateway', 'metric', 'unit'],
        },
      ],
    });
  }

  async init(): Promise<void> {
    const names = await this.influx.getDatabaseNames();
    if (!names.includes(this.options.database))
      await this.influx.createDatabase(this.options.database);
  }

  async ping(): Promise<boolean> {
    const hosts = await this.influx.ping(2000);
    return hosts.some((h) => h.online);
  }

  async write(records: readonly ReadingRecord[]): Promise<void> {
    const points: IPoint[] = [];
    for (const r of records) {
      for (const [metric, m] of Object.entries(r.metrics)) {
        points.push({
          measurement: READINGS,
          tags: {
            device: r.deviceId,
            gateway: r.gatewayId,
            metric,
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
    if (points.length > 0) await this.influx.writePoints(points, { precision: 'ms' });
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
