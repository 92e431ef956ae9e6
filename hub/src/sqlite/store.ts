import type { GatewayStatusRecord, ReadingRecord } from '@iot-stream/contracts';
import type Database from 'better-sqlite3';
import type { BatchOutput, ReadingQuery, ReadingStore, StoredReading } from '../ports.ts';
import {
  aggregatePoints,
  episodePoints,
  gatewayStatusPoints,
  LONG_RP,
  RAW_RP,
  READINGS,
  readingPoints,
  type Sample,
} from '../store/points.ts';
import { retentionMs } from '../store/retention.ts';
import { addReadingPoint } from '../store/rows.ts';
import { StoreError, storeWriteFailed } from './errors.ts';
import { openStore } from './schema.ts';

export interface SqliteStoreOptions {
  path: string;
  /** InfluxQL durations (`30d`, `INF`) of raw points and of aggregates / anomalies. */
  rawRetention?: string;
  aggregateRetention?: string;
  now?: () => number;
}

/**
 * Retention runs inside write transactions, every PRUNE_EVERY_MS, deleting at most
 * PRUNE_CHUNK points per retention policy, or twice the points of that write if more: while
 * a pass finds more than that, every write prunes again, so deleting outpaces writing.
 */
const PRUNE_CHUNK = 5000;
const PRUNE_EVERY_MS = 60_000;

type Batch = readonly { rp: string; points: readonly Sample[] }[];

interface Statements {
  ping: Database.Statement<[], { ok: number }>;
  seriesGet: Database.Statement<[string, string, string], { id: number }>;
  seriesAdd: Database.Statement<[string, string, string, string | null, string | null]>;
  upsert: Database.Statement<[number, number, number | null, string]>;
  prune: Database.Statement<[string, number, number]>;
  readingSeries: Database.Statement<[string, string, string], { id: number; tags: string }>;
  /** Points of one series, or (sorted, slower) of several: a device that changed site. */
  seriesPoints: Database.Statement<[number, number, number, number], ReadingRow>;
  groupPoints: Database.Statement<[string, number, number, number], ReadingRow>;
}

interface ReadingRow {
  time: number;
  value: number | null;
  seq: number | null;
  gatewaySeq: number | null;
}

const READING_COLUMNS = `time, value, json_extract(fields, '$.seq') AS seq,
  json_extract(fields, '$.gateway_seq') AS gatewaySeq`;

/**
 * Single-box mode's stand-in for InfluxStore: the same points (influx-points.ts builds them),
 * in one SQLite file. A point is identified by (retention policy, measurement, tag set, time)
 * as in InfluxDB, and writing it again merges its fields (UPSERT with json_patch: new values
 * win, fields the new write lacks are kept, exactly InfluxDB's overwrite), so replaying the
 * same records leaves the file unchanged. A write is one transaction. Points older than their
 * retention are not written (InfluxDB drops them too) and are pruned in chunks while writing.
 * SqliteQueries answers the REST API's other queries from the same file.
 */
export class SqliteStore implements ReadingStore {
  readonly db: Database.Database;
  /** Points not written because they were already past their retention when written. */
  beyondRetention = 0;
  /** Points deleted by retention. */
  pruned = 0;
  private readonly retention: ReadonlyMap<string, number | undefined>;
  private readonly now: () => number;
  /** Series ids by (rp, measurement, tags as the builder ordered them). */
  private readonly series = new Map<string, number>();
  private readonly stmt: Statements;
  private readonly commit: (batch: Batch, created: string[]) => number;
  private nextPruneAt = 0;

  constructor(options: SqliteStoreOptions) {
    this.now = options.now ?? Date.now;
    this.retention = new Map([
      [RAW_RP, retentionMs(options.rawRetention ?? '30d')],
      [LONG_RP, retentionMs(options.aggregateRetention ?? 'INF')],
    ]);
    // synchronous=FULL, not NORMAL. The pipeline writes a batch here before it checkpoints
    // and lets the local log drop those records (as it writes InfluxDB before committing Kafka
    // offsets): from then on this file holds the only copy of readings that were acknowledged
    // to a gateway. With WAL, NORMAL syncs only at WAL checkpoints, so a power cut can take
    // back transactions that had committed, while the pipeline's checkpoint (synced) says
    // they were written: those readings would be gone for good, and exactly-once broken.
    // FULL syncs the WAL at every commit: one fsync per write (a pipeline batch, hundreds to
    // thousands of points), which even a Pi's SD card does many times a second, so 5k
    // readings/s costs a handful of fsyncs per second, not one per reading.
    this.db = openStore({ path: options.path, synchronous: 'FULL' });
    this.stmt = {
      ping: this.db.prepare('SELECT 1 AS ok'),
      seriesGet: this.db.prepare(
        'SELECT id FROM series WHERE rp = ? AND measurement = ? AND tags = ?',
      ),
      seriesAdd: this.db.prepare(
        'INSERT INTO series (rp, measurement, tags, device, metric) VALUES (?, ?, ?, ?, ?)',
      ),
      upsert: this.db.prepare(
        `INSERT INTO points (series_id, time, value, fields) VALUES (?, ?, ?, ?)
         ON CONFLICT (series_id, time) DO UPDATE SET
           value = coalesce(excluded.value, value),
           fields = json_patch(fields, excluded.fields)`,
      ),
      prune: this.db.prepare(
        `DELETE FROM points WHERE (series_id, time) IN (
           SELECT p.series_id, p.time FROM series s JOIN points p ON p.series_id = s.id
           WHERE s.rp = ? AND p.time < ? LIMIT ?)`,
      ),
      readingSeries: this.db.prepare(
        'SELECT id, tags FROM series WHERE measurement = ? AND device = ? AND rp = ?',
      ),
      seriesPoints: this.db.prepare(
        `SELECT ${READING_COLUMNS} FROM points
         WHERE series_id = ? AND time >= ? AND time <= ? ORDER BY time LIMIT ?`,
      ),
      groupPoints: this.db.prepare(
        `SELECT ${READING_COLUMNS} FROM points
         WHERE series_id IN (SELECT value FROM json_each(?)) AND time >= ? AND time <= ?
         ORDER BY time, series_id LIMIT ?`,
      ),
    };
    this.commit = this.db.transaction((batch: Batch, created: string[]) =>
      this.apply(batch, created),
    );
  }

  /** The file is opened and migrated by the constructor; nothing left to prepare. */
  async init(): Promise<void> {}

  async ping(): Promise<boolean> {
    return this.db.open && this.stmt.ping.get()?.ok === 1;
  }

  async write(records: readonly ReadingRecord[]): Promise<void> {
    await this.writeBatch({ readings: records, aggregates: [], events: [] });
  }

  /** Raw readings into the raw policy, aggregates and episodes into the long one: one commit. */
  async writeBatch(batch: BatchOutput): Promise<void> {
    this.run([
      { rp: RAW_RP, points: readingPoints(batch.readings, batch.siteOf) },
      {
        rp: LONG_RP,
        points: [
          ...aggregatePoints(batch.aggregates, batch.siteOf),
          ...episodePoints(batch.events, batch.siteOf),
        ],
      },
    ]);
  }

  /** One `hub_health` point into the raw policy. */
  async writeHealth(point: Sample): Promise<void> {
    this.run([{ rp: RAW_RP, points: [point] }]);
  }

  /** Gateway status records (`gateway_status`, `gateway_quarantine`) into the raw policy. */
  async writeGatewayStatus(records: readonly GatewayStatusRecord[]): Promise<void> {
    if (records.length > 0)
      this.run([{ rp: RAW_RP, points: records.flatMap(gatewayStatusPoints) }]);
  }

  /**
   * Deletes up to `maxRows` points per retention policy that are past their retention;
   * returns how many. Writes do it by themselves (see PRUNE_CHUNK).
   */
  prune(maxRows = PRUNE_CHUNK): number {
    return this.db.transaction(() => this.pruneChunk(this.now(), maxRows).deleted)();
  }

  /** Raw readings, oldest first, with InfluxStore.readings' grouping and limits. */
  async readings(query: ReadingQuery): Promise<StoredReading[]> {
    const groups = new Map<
      string,
      { gateway: string; metric: string; unit: string; ids: number[] }
    >();
    for (const s of this.stmt.readingSeries.all(READINGS, query.deviceId, RAW_RP)) {
      const tags = JSON.parse(s.tags) as Record<string, string>;
      const g = { gateway: tags.gateway ?? '', metric: tags.metric ?? '', unit: tags.unit ?? '' };
      const key = `${g.gateway}\u0000${g.metric}\u0000${g.unit}`;
      const group = groups.get(key) ?? { ...g, ids: [] };
      group.ids.push(s.id);
      groups.set(key, group);
    }
    // InfluxDB returns the groups (GROUP BY metric, unit, gateway) ordered by their tag values,
    // each limited to `limit` points: the same walk gives the same readings.
    const ordered = [...groups.values()].sort(
      (a, b) => cmp(a.gateway, b.gateway) || cmp(a.metric, b.metric) || cmp(a.unit, b.unit),
    );
    const byReading = new Map<string, StoredReading>();
    for (const g of ordered) {
      const range = [Math.trunc(query.from), Math.trunc(query.to), query.limit] as const;
      const rows =
        g.ids.length === 1
          ? this.stmt.seriesPoints.all(g.ids[0] as number, ...range)
          : this.stmt.groupPoints.all(JSON.stringify(g.ids), ...range);
      for (const row of rows)
        addReadingPoint(byReading, {
          time: row.time,
          gateway: g.gateway,
          gatewaySeq: row.gatewaySeq,
          seq: row.seq,
          metric: g.metric,
          unit: g.unit,
          value: row.value as number,
        });
    }
    return [...byReading.values()].sort((a, b) => a.time - b.time).slice(0, query.limit);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private run(batch: Batch): void {
    const created: string[] = [];
    try {
      this.beyondRetention += this.commit(batch, created);
    } catch (err) {
      for (const key of created) this.series.delete(key); // rolled back with the transaction
      throw storeWriteFailed(err);
    }
  }

  /** Inside the write transaction; returns the points skipped as past their retention. */
  private apply(batch: Batch, created: string[]): number {
    const now = this.now();
    let skipped = 0;
    let written = 0;
    for (const { rp, points } of batch) {
      const keep = this.retention.get(rp);
      const cutoff = keep === undefined ? Number.NEGATIVE_INFINITY : now - keep;
      for (const point of points) {
        const time = timeOf(point);
        if (time < cutoff) {
          skipped += 1;
          continue;
        }
        const fields = encodeFields(point);
        this.stmt.upsert.run(this.seriesId(rp, point, created), time, fields.value, fields.json);
        written += 1;
      }
    }
    if (now >= this.nextPruneAt) {
      const { more } = this.pruneChunk(now, Math.max(PRUNE_CHUNK, 2 * written));
      this.nextPruneAt = more ? now : now + PRUNE_EVERY_MS;
    }
    return skipped;
  }

  /** `more`: some policy hit `maxRows`, so there is probably more to delete. */
  private pruneChunk(now: number, maxRows: number): { deleted: number; more: boolean } {
    let deleted = 0;
    let more = false;
    for (const [rp, keep] of this.retention) {
      if (keep === undefined) continue;
      const n = this.stmt.prune.run(rp, now - keep, maxRows).changes;
      more ||= n >= maxRows;
      deleted += n;
    }
    this.pruned += deleted;
    return { deleted, more };
  }

  private seriesId(rp: string, point: Sample, created: string[]): number {
    const measurement = point.measurement;
    if (typeof measurement !== 'string' || measurement === '')
      throw new StoreError('STORE_POINT_INVALID', 'a point without a measurement');
    const tags = point.tags ?? {};
    const key = `${rp}\u0000${measurement}\u0000${JSON.stringify(tags)}`;
    let id = this.series.get(key);
    if (id === undefined) {
      const canonical = canonicalTags(tags);
      id =
        this.stmt.seriesGet.get(rp, measurement, canonical)?.id ??
        Number(
          this.stmt.seriesAdd.run(
            rp,
            measurement,
            canonical,
            tags.device || null,
            tags.metric || null,
          ).lastInsertRowid,
        );
      this.series.set(key, id);
      created.push(key);
    }
    return id;
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Tags as InfluxDB keys a series: sorted by name, empty values left out. */
function canonicalTags(tags: Record<string, string>): string {
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(tags).sort()) {
    const v = tags[name];
    if (typeof v === 'string' && v !== '') sorted[name] = v;
  }
  return JSON.stringify(sorted);
}

function timeOf(point: Sample): number {
  const ms = point.timestamp;
  if (!Number.isSafeInteger(ms))
    throw new StoreError(
      'STORE_POINT_INVALID',
      `${point.measurement}: bad timestamp ${String(ms)}`,
    );
  return ms;
}

/**
 * A numeric `value` field (readings) goes to the typed column, the other fields to JSON; null
 * and undefined are left out (InfluxDB writes no such field).
 */
function encodeFields(point: Sample): { value: number | null; json: string } {
  const fields = (point.fields ?? {}) as Record<string, unknown>;
  const value = typeof fields.value === 'number' ? fields.value : null;
  const rest: Record<string, unknown> = {};
  let n = 0;
  for (const name in fields) {
    const v = fields[name];
    if (v === null || v === undefined) continue;
    if (typeof v === 'number' && !Number.isFinite(v))
      throw new StoreError(
        'STORE_POINT_INVALID',
        `${point.measurement}: field ${name} is ${v}, which InfluxDB refuses too`,
      );
    n += 1;
    if (name !== 'value' || value === null) rest[name] = v;
  }
  if (n === 0)
    throw new StoreError('STORE_POINT_INVALID', `${point.measurement}: a point without fields`);
  return { value, json: JSON.stringify(rest) };
}
