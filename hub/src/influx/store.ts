import { type GatewayStatusRecord, IotError, type ReadingRecord } from '@iot-stream/contracts';
import { FieldType, InfluxDB, type ISchemaOptions, escape as influxEscape } from 'influx';
import type { BatchOutput, ReadingQuery, ReadingStore, StoredReading } from '../ports.ts';
import { UNASSIGNED_SITE } from '../processing/sites.ts';
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
  type Sample,
} from '../store/points.ts';
import { addReadingPoint } from '../store/rows.ts';
import { httpPoster, type Poster } from './http-post.ts';
import { LineProtocol, readingLines } from './lines.ts';
import { checkSchema, ensureSchema } from './schema.ts';

export interface InfluxStoreOptions {
  url: string;
  database: string;
  username?: string | undefined;
  password?: string | undefined;
  /** InfluxDB 2.x / 3: an API token (`Authorization: Token ...`) instead of username/password. */
  token?: string | undefined;
  /** false: never CREATE / ALTER the database or its retention policies, only check them. */
  manageSchema?: boolean;
  /** InfluxQL durations (`30d`, `INF`) of the raw and the long retention policy. */
  rawRetention?: string;
  aggregateRetention?: string;
  /** Told when InfluxDB dropped points older than their retention policy (a partial write). */
  onBeyondRetention?: (dropped: number, retentionPolicy: string) => void;
  /** Told when the schema could not be checked (manageSchema false) and writing goes ahead. */
  onUnchecked?: (reason: string) => void;
}

/** InfluxDB's answer to a write whose points were partly older than the retention policy. */
const BEYOND_RETENTION = /points beyond retention policy dropped=(\d+)/;

/** The InfluxDB schema of the measurements the hub writes (field types, allowed tags). */
export const INFLUX_SCHEMA: ISchemaOptions[] = [
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
];

/**
 * Readings in InfluxDB 1.x: measurement `readings`, one point per metric, tags device /
 * gateway / metric / unit (bounded cardinality: never a reading id), field `value`, plus
 * `seq` and `gateway_seq` as fields. The point time is the event time, so rewriting the same
 * record overwrites the same point instead of adding one.
 */
export class InfluxStore implements ReadingStore {
  private readonly influx: InfluxDB;
  private readonly lines = new LineProtocol(INFLUX_SCHEMA);
  private fastReadings = true;
  /** Points InfluxDB dropped as older than their retention policy (the rest was written). */
  beyondRetention = 0;
  /** POST target and headers of writes (the library's client is kept for everything else). */
  private readonly writeUrl: string;
  private readonly poster: Poster;
  private readonly writeHeaders: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
  };

  constructor(private readonly options: InfluxStoreOptions) {
    const url = new URL(options.url);
    this.writeUrl = new URL('/write', url).toString();
    this.poster = httpPoster(url.protocol === 'https:');
    if (options.token) this.writeHeaders.authorization = `Token ${options.token}`;
    else if (options.username)
      this.writeHeaders.authorization = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
    this.influx = new InfluxDB({
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 8086)),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      database: options.database,
      ...(options.username ? { username: options.username, password: options.password ?? '' } : {}),
      ...(options.token
        ? // No basic auth then: the library sends root:root whenever username is a string.
          {
            username: null as unknown as string,
            options: { headers: { authorization: `Token ${options.token}` } },
          }
        : {}),
      schema: INFLUX_SCHEMA,
    });
  }

  /**
   * The database with its `raw` (default) and `long` retention policies (influx/schema.ts):
   * created or altered to the configured durations, or, with manageSchema false, only checked.
   */
  init(): Promise<void> {
    const o = this.options;
    return o.manageSchema === false
      ? checkSchema(this.influx, o.database, o.onUnchecked)
      : ensureSchema(this.influx, o.database, {
          [RAW_RP]: o.rawRetention ?? '30d',
          [LONG_RP]: o.aggregateRetention ?? 'INF',
        });
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
    const fast = this.readingLines(batch);
    const raw = fast ? [] : readingPoints(batch.readings, batch.siteOf);
    const long: Sample[] = [
      ...aggregatePoints(batch.aggregates, batch.siteOf),
      ...episodePoints(batch.events, batch.siteOf),
    ];
    await Promise.all([
      fast && this.writeLines(fast, RAW_RP),
      raw.length > 0 && this.writePoints(raw, RAW_RP),
      long.length > 0 && this.writePoints(long, LONG_RP),
    ]);
  }

  /**
   * The raw readings' request bodies without point objects (readingLines), as long as they
   * equal what the point builders give: checked on the first record of every batch; on a
   * difference (the schema in influx-points.ts changed) the generic path is used from then on.
   */
  private readingLines(batch: BatchOutput): Buffer[] | undefined {
    const first = batch.readings[0];
    if (!this.fastReadings || first === undefined) return undefined;
    const bodies = readingLines(batch.readings, batch.siteOf ?? (() => UNASSIGNED_SITE));
    const expected = this.lines.lines(readingPoints([first], batch.siteOf));
    const head = bodies?.[0];
    if (head !== undefined && expected !== undefined && startsWithLines(head, expected))
      return bodies;
    this.fastReadings = bodies === undefined; // a record that does not fit: only this batch
    return undefined;
  }

  private async writeLines(bodies: readonly Buffer[], retentionPolicy: string): Promise<void> {
    for (const body of bodies) await this.post(body, retentionPolicy);
  }

  /** One `hub_health` point into the raw policy. */
  async writeHealth(point: Sample): Promise<void> {
    await this.writePoints([point], RAW_RP);
  }

  /** Gateway status records into the raw policy. */
  async writeGatewayStatus(records: readonly GatewayStatusRecord[]) {
    if (records.length > 0) await this.writePoints(records.flatMap(gatewayStatusPoints), RAW_RP);
  }

  /**
   * Writes in requests of up to 5,000 points, in order. The body is the line protocol the
   * `influx` library would send (LineProtocol), built without its per-point overhead; points
   * outside that fast path go through the library itself.
   */
  private async writePoints(points: Sample[], retentionPolicy: string): Promise<void> {
    for (let i = 0; i < points.length; i += 5000) {
      const chunk = points.length <= 5000 ? points : points.slice(i, i + 5000);
      const body = this.lines.lines(chunk);
      if (body === undefined)
        await this.influx
          .writePoints(chunk, { precision: 'ms', retentionPolicy })
          .catch((err: Error) => this.partial(err.message, retentionPolicy, err));
      else await this.post(body, retentionPolicy);
    }
  }

  /**
   * One `/write` request, as the library makes it (db, precision ms, rp; basic auth; 30 s
   * timeout), over a keep-alive connection (http-post.ts).
   */
  private async post(body: string | Buffer, retentionPolicy: string): Promise<void> {
    const query = new URLSearchParams({
      db: this.options.database,
      precision: 'ms',
      rp: retentionPolicy,
    });
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    const { status, text } = await this.poster.post(
      `${this.writeUrl}?${query}`,
      this.writeHeaders,
      payload,
    );
    if (status >= 200 && status < 300) return; // (an error with an empty body is one too)
    // 400 (unparsable, a field type conflict) and 413 (too large) refuse the content: no
    // retry helps (batch-writer.ts isolates the culprit); anything else may pass.
    const refused = status === 400 || status === 413;
    const err = new IotError(
      refused ? 'INFLUX_WRITE_REJECTED' : 'INFLUX_WRITE_FAILED',
      `InfluxDB write failed: HTTP ${status}: ${text.trim().slice(0, 500)}`,
      { retriable: !refused },
    );
    this.partial(text, retentionPolicy, err);
  }

  /** Ends the write connections. */
  close(): Promise<void> {
    return this.poster.close();
  }

  /**
   * A write InfluxDB answered with "partial write: points beyond retention policy dropped=N"
   * stored every other point: retrying it would fail forever and stall the partition, so it
   * counts as written and the drop is counted and reported. Any other failure is rethrown.
   */
  private partial(text: string, retentionPolicy: string, err: Error): void {
    const dropped = BEYOND_RETENTION.exec(text);
    if (!dropped) throw err;
    const n = Number(dropped[1]);
    this.beyondRetention += n;
    this.options.onBeyondRetention?.(n, retentionPolicy);
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
    for (const row of rows)
      addReadingPoint(byReading, {
        time: row.time.getTime(),
        gateway: row.gateway,
        gatewaySeq: row.gateway_seq,
        seq: row.seq,
        metric: row.metric,
        unit: row.unit,
        value: row.value,
      });
    return [...byReading.values()].sort((a, b) => a.time - b.time).slice(0, query.limit);
  }
}

/** Whether `body` starts with exactly these whole lines. */
function startsWithLines(body: Buffer, lines: string): boolean {
  const expected = Buffer.from(lines);
  const n = expected.length;
  return (
    body.length >= n &&
    body.subarray(0, n).equals(expected) &&
    (body.length === n || body[n] === 0x0a)
  );
}
