import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadingRecord } from '@iot-stream/contracts';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EpisodeEvent } from '../src/detect/engine-types.ts';
import { SqliteQueries } from '../src/sqlite/queries.ts';
import { MIGRATIONS } from '../src/sqlite/schema.ts';
import { SqliteStore, type SqliteStoreOptions } from '../src/sqlite/store.ts';
import {
  ANOMALIES,
  GATEWAY_STATUS,
  HUB_HEALTH,
  LONG_RP,
  RAW_RP,
  READINGS,
} from '../src/store/points.ts';
import { retentionMs } from '../src/store/retention.ts';
import { type StoredPoint, storeContract, T0 } from './support/store-contract.ts';
import { timeRangeContract } from './support/store-contract-times.ts';

const dirs: string[] = [];
const tempPath = () => {
  const dir = mkdtempSync(join(tmpdir(), 'iot-hub-sqlite-'));
  dirs.push(dir);
  return join(dir, 'store', 'hub.db');
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dump(store: SqliteStore, rp: string, measurement: string): StoredPoint[] {
  const rows = store.db
    .prepare(
      `SELECT s.tags, p.time, p.value, p.fields FROM series s JOIN points p ON p.series_id = s.id
       WHERE s.rp = ? AND s.measurement = ?`,
    )
    .all(rp, measurement) as { tags: string; time: number; value: number | null; fields: string }[];
  return rows.map((r) => ({
    time: r.time,
    tags: JSON.parse(r.tags),
    fields: { ...JSON.parse(r.fields), ...(r.value === null ? {} : { value: r.value }) },
  }));
}

describe('SqliteStore + SqliteQueries: the store contract', () => {
  const open = async () => {
    const store = new SqliteStore({ path: tempPath(), rawRetention: 'INF' });
    await store.init();
    return {
      store,
      queries: new SqliteQueries(store),
      dump: async (rp: string, measurement: string) => dump(store, rp, measurement),
      close: async () => store.close(),
    };
  };
  storeContract(open);
  timeRangeContract(open, T0);
});

const DAY = 86_400_000;
let gatewaySeq = 0;
const reading = (time: number, deviceId = 'dev-1'): ReadingRecord => ({
  v: 1,
  gatewayId: 'gw-1',
  gatewaySeq: ++gatewaySeq,
  deviceId,
  time,
  receivedAt: time,
  metrics: { temperature: { value: 20, unit: 'Cel' } },
});
const opened = (start: number): EpisodeEvent => ({
  type: 'opened',
  time: start,
  episode: {
    id: `r/dev-1/temperature/${start}`,
    ruleId: 'r',
    deviceId: 'dev-1',
    metric: 'temperature',
    detector: 'range',
    severity: 'warning',
    start,
    end: null,
    peakScore: 1,
    peakTime: start,
    peakValue: 20,
  },
});
const count = (store: SqliteStore, rp: string, measurement: string) =>
  dump(store, rp, measurement).length;

describe('SqliteStore: retention', () => {
  let now = T0;
  const open = (over: Partial<SqliteStoreOptions> = {}) =>
    new SqliteStore({ path: tempPath(), now: () => now, ...over });
  beforeEach(() => {
    now = T0;
  });

  it('parses InfluxQL durations; INF and 0 mean never', () => {
    expect(retentionMs('30d')).toBe(30 * DAY);
    expect(retentionMs('1h30m')).toBe(5_400_000);
    expect(retentionMs('2w')).toBe(14 * DAY);
    expect(retentionMs('INF')).toBeUndefined();
    expect(retentionMs('inf')).toBeUndefined();
    expect(retentionMs('0s')).toBeUndefined();
    for (const bad of ['', '30', 'd', '30 days', '-1d', '1y'])
      expect(() => retentionMs(bad), bad).toThrow(
        expect.objectContaining({ code: 'STORE_RETENTION_INVALID' }),
      );
    expect(() => open({ rawRetention: 'soon' })).toThrow(/not a duration/);
  });

  it('prunes raw points past rawRetention and long ones past aggregateRetention', async () => {
    const store = open({ rawRetention: '2d', aggregateRetention: '10d' });
    await store.writeBatch({
      readings: [reading(T0 - DAY), reading(T0)],
      aggregates: [],
      events: [opened(T0 - DAY), opened(T0)],
    });
    await store.writeGatewayStatus([{ kind: 'gateway-status', gatewayId: 'gw-1', time: T0 - DAY }]);
    await store.writeHealth({
      measurement: HUB_HEALTH,
      tags: { hub: 'h' },
      fields: { lag: 0 },
      timestamp: T0 - DAY,
    });
    expect(store.prune()).toBe(0);

    now = T0 + DAY + 1; // T0 - DAY is now more than 2 days old
    expect(store.prune()).toBe(3);
    expect(count(store, RAW_RP, READINGS)).toBe(1);
    expect(count(store, RAW_RP, GATEWAY_STATUS)).toBe(0);
    expect(count(store, RAW_RP, HUB_HEALTH)).toBe(0);
    expect(count(store, LONG_RP, ANOMALIES)).toBe(2);

    now = T0 + 9 * DAY + 1;
    expect(store.prune()).toBe(2); // the other reading, the older episode
    expect(count(store, LONG_RP, ANOMALIES)).toBe(1);
    const queries = new SqliteQueries(store);
    const all = {
      from: 0,
      to: now,
      deviceId: undefined,
      severity: undefined,
      limit: 10,
      offset: 0,
    };
    expect((await queries.anomalies(all)).map((a) => a.start)).toEqual([T0]);
    store.close();
  });

  it('prunes in chunks, and by itself while writing', async () => {
    const store = open({ rawRetention: '1d', aggregateRetention: 'INF' });
    await store.write(Array.from({ length: 30 }, (_, i) => reading(T0 + i)));
    await store.writeBatch({ readings: [], aggregates: [], events: [opened(T0)] });
    now = T0 + 2 * DAY;
    expect(store.prune(10)).toBe(10);
    expect(store.prune(10)).toBe(10);
    expect(count(store, RAW_RP, READINGS)).toBe(10);
    // A write past the next pruning time prunes a chunk in its own transaction.
    now += 60_000;
    await store.write([reading(now)]);
    expect(count(store, RAW_RP, READINGS)).toBe(1);
    expect(store.pruned).toBe(30);
    expect(count(store, LONG_RP, ANOMALIES)).toBe(1); // INF: kept
    store.close();
  });

  it('while a pass finds more to delete, every write prunes again', async () => {
    const store = open({ rawRetention: '1d' });
    await store.write(Array.from({ length: 12_000 }, (_, i) => reading(T0 + i)));
    now = T0 + 3 * DAY;
    const pruned = [];
    for (let i = 0; i < 4; i += 1) {
      await store.write([reading(now)]);
      pruned.push(store.pruned);
    }
    expect(pruned).toEqual([5000, 10_000, 12_000, 12_000]);
    store.close();
  });

  it('does not write points already past their retention (InfluxDB drops them too)', async () => {
    const store = open({ rawRetention: '1d' });
    await store.write([reading(T0 - 2 * DAY), reading(T0 - DAY + 1)]);
    expect(count(store, RAW_RP, READINGS)).toBe(1);
    expect(store.beyondRetention).toBe(1);
    store.close();
  });
});

describe('SqliteStore: the file', () => {
  it('keeps what it wrote across a reopen (WAL, synchronous=FULL)', async () => {
    const path = tempPath();
    const first = new SqliteStore({ path, rawRetention: 'INF' });
    expect(first.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(first.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    await first.write([reading(T0), reading(T0 + 1)]);
    first.close();
    const second = new SqliteStore({ path, rawRetention: 'INF' });
    const got = await second.readings({ deviceId: 'dev-1', from: T0, to: T0 + 1, limit: 10 });
    expect(got.map((r) => r.time)).toEqual([T0, T0 + 1]);
    // Series ids come from the file: a new series after reopening gets its own.
    await second.write([reading(T0, 'dev-2')]);
    expect((await second.readings({ deviceId: 'dev-2', from: T0, to: T0, limit: 10 })).length).toBe(
      1,
    );
    expect(second.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    second.close();
  });

  it('refuses a file from a newer hub', () => {
    const path = tempPath();
    new SqliteStore({ path }).close();
    const db = new Database(path);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => new SqliteStore({ path })).toThrow(
      expect.objectContaining({ code: 'STORE_TOO_NEW' }),
    );
  });

  it('refuses a non-finite field like InfluxDB, writing nothing of that batch', async () => {
    const store = new SqliteStore({ path: tempPath(), rawRetention: 'INF' });
    const bad = { ...reading(T0 + 1), metrics: { temperature: { value: Number.NaN } } };
    await expect(store.write([reading(T0), bad])).rejects.toMatchObject({
      code: 'STORE_POINT_INVALID',
    });
    expect(count(store, RAW_RP, READINGS)).toBe(0);
    // The series created by the rolled-back write is not cached: the next write recreates it.
    await store.write([reading(T0)]);
    expect(count(store, RAW_RP, READINGS)).toBe(1);
    store.close();
  });

  it('a write after close fails as retriable', async () => {
    const store = new SqliteStore({ path: tempPath() });
    store.close();
    await expect(store.write([reading(T0)])).rejects.toMatchObject({
      code: 'STORE_WRITE_FAILED',
      retriable: true,
    });
    expect(await store.ping()).toBe(false);
  });
});
