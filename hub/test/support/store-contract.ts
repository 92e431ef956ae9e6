import type { GatewayStatusRecord, ReadingRecord } from '@iot-stream/contracts';
import type { IPoint } from 'influx';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EpisodeEvent } from '../../src/detect/engine-types.ts';
import type {
  AggregateFn,
  BatchOutput,
  HubQueries,
  ReadingStore,
  SeriesPoint,
} from '../../src/ports.ts';
import {
  AGGREGATES,
  ANOMALIES,
  aggregatePoints,
  episodePoints,
  LONG_RP,
  RAW_RP,
  READINGS,
  readingPoints,
} from '../../src/store/points.ts';
import type { Aggregate } from '../../src/windows/window-state.ts';
import { queriesContract } from './store-contract-queries.ts';

/**
 * One contract for every store the hub writes to and the REST API reads from (InfluxStore +
 * InfluxQueries, SqliteStore + SqliteQueries): same points in, same answers out. Run by
 * hub/test/sqlite-store.test.ts and, against a real InfluxDB, test/hub/store-contract.test.ts.
 */

/** What the hub uses of a store beyond the ReadingStore port. */
export interface ContractStore extends ReadingStore {
  writeBatch(batch: BatchOutput): Promise<void>;
  writeHealth(point: IPoint): Promise<void>;
  writeGatewayStatus(records: readonly GatewayStatusRecord[]): Promise<void>;
}

/** A stored point as the store gives it back: null fields left out. */
export interface StoredPoint {
  time: number;
  tags: Record<string, string>;
  fields: Record<string, unknown>;
}

export interface StoreUnderTest {
  store: ContractStore;
  queries: HubQueries;
  /** Every point of a measurement in a retention policy, in any order. */
  dump(rp: string, measurement: string): Promise<StoredPoint[]>;
  close(): Promise<void>;
}

export const T0 = Date.UTC(2026, 10, 22, 12);
const SECOND = 1000;

/** Points as the builders made them, in the order `sortPoints` gives. */
export function expectedPoints(points: readonly IPoint[]): StoredPoint[] {
  return sortPoints(
    points.map((p) => ({
      time: Number(p.timestamp),
      tags: { ...p.tags },
      fields: Object.fromEntries(
        Object.entries(p.fields ?? {}).filter(([, v]) => v !== null && v !== undefined),
      ),
    })),
  );
}

export function sortPoints(points: StoredPoint[]): StoredPoint[] {
  const key = (p: StoredPoint) =>
    JSON.stringify(Object.entries(p.tags).sort(([a], [b]) => (a < b ? -1 : 1)));
  return points.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.time - b.time));
}

/** Readings of one gateway with increasing gateway sequence numbers. */
export function readings() {
  let gatewaySeq = 0;
  return (
    deviceId: string,
    time: number,
    metrics: ReadingRecord['metrics'],
    extra: Partial<ReadingRecord> = {},
  ): ReadingRecord => {
    gatewaySeq += 1;
    return {
      v: 1,
      gatewayId: 'gw-1',
      gatewaySeq,
      deviceId,
      session: 1,
      seq: gatewaySeq % 65_536,
      time,
      receivedAt: time + 50,
      metrics,
      ...extra,
    };
  };
}

export function episode(
  over: Partial<EpisodeEvent['episode']> & { deviceId: string; start: number },
  type: EpisodeEvent['type'] = 'opened',
): EpisodeEvent {
  const e = {
    ruleId: 'r-temp',
    metric: 'temperature',
    detector: 'range' as const,
    severity: 'warning' as const,
    end: null,
    peakScore: 2.5,
    peakTime: over.start,
    peakValue: 31.5,
    ...over,
  };
  const id = `${e.ruleId}/${e.deviceId}/${e.metric}/${e.start}`;
  return { type, time: e.end ?? e.start, episode: { ...e, id } };
}

export function aggregate(over: Partial<Aggregate> & { start: number }): Aggregate {
  return {
    deviceId: 'dev-1',
    metric: 'temperature',
    unit: 'Cel',
    windowMs: 60_000,
    end: over.start + 60_000,
    count: 4,
    min: 20,
    max: 23,
    mean: 21.5,
    stddev: 1.25,
    last: 22,
    lastTime: over.start + 50_000,
    final: true,
    revision: 0,
    ...over,
  };
}

export function status(gatewayId: string, time: number, over: Partial<GatewayStatusRecord> = {}) {
  return { kind: 'gateway-status' as const, gatewayId, time, ...over };
}

export const batch = (b: Partial<BatchOutput>): BatchOutput => ({
  readings: [],
  aggregates: [],
  events: [],
  ...b,
});
export const siteOf = (deviceId: string) => (deviceId === 'dev-1' ? 'hall-a' : 'unassigned');

export function storeContract(open: () => Promise<StoreUnderTest>): void {
  let s: StoreUnderTest;
  beforeEach(async () => {
    s = await open();
  });
  afterEach(async () => {
    await s.close();
  });

  it('answers ping', async () => {
    expect(await s.store.ping()).toBe(true);
  });

  it('readings: every metric of a reading with units, gateway and sequence numbers, oldest first', async () => {
    const r = readings();
    const records = [
      r('dev-1', T0 + SECOND, {
        temperature: { value: 21.5, unit: 'Cel' },
        humidity: { value: 40, unit: '%RH' },
        door: { value: 1 },
      }),
      r('dev-1', T0, { temperature: { value: 20.25, unit: 'Cel' } }, { seq: undefined }),
      r(
        'dev-1',
        T0 + SECOND,
        { temperature: { value: 21.75, unit: 'Cel' } },
        { gatewayId: 'gw-0' },
      ),
      r('dev-1', T0 + 5 * SECOND, { temperature: { value: -3.125, unit: 'Cel' } }),
      r('dev-2', T0 + SECOND, { temperature: { value: 30, unit: 'Cel' } }),
    ];
    // The last dev-1 reading without site rules: a series of its own (site `unassigned`),
    // read back with the others all the same.
    const moved = records.splice(3, 1);
    await s.store.writeBatch(batch({ readings: records, siteOf }));
    await s.store.write(moved);
    const all = await s.store.readings({
      deviceId: 'dev-1',
      from: T0,
      to: T0 + 5 * SECOND,
      limit: 10,
    });
    expect(all).toEqual([
      {
        time: T0,
        gatewayId: 'gw-1',
        gatewaySeq: 2,
        seq: null,
        metrics: { temperature: { value: 20.25, unit: 'Cel' } },
      },
      {
        time: T0 + SECOND,
        gatewayId: 'gw-0',
        gatewaySeq: 3,
        seq: 3,
        metrics: { temperature: { value: 21.75, unit: 'Cel' } },
      },
      {
        time: T0 + SECOND,
        gatewayId: 'gw-1',
        gatewaySeq: 1,
        seq: 1,
        metrics: {
          door: { value: 1 },
          humidity: { value: 40, unit: '%RH' },
          temperature: { value: 21.5, unit: 'Cel' },
        },
      },
      {
        time: T0 + 5 * SECOND,
        gatewayId: 'gw-1',
        gatewaySeq: 4,
        seq: 4,
        metrics: { temperature: { value: -3.125, unit: 'Cel' } },
      },
    ]);
    const inner = await s.store.readings({
      deviceId: 'dev-1',
      from: T0 + 1,
      to: T0 + 5 * SECOND - 1,
      limit: 10,
    });
    expect(inner).toEqual(all.slice(1, 3));
    const firstTwo = await s.store.readings({
      deviceId: 'dev-1',
      from: T0,
      to: T0 + 10 * SECOND,
      limit: 2,
    });
    expect(firstTwo).toEqual(all.slice(0, 2));
    expect(await s.store.readings({ deviceId: 'dev-3', from: 0, to: T0 * 2, limit: 10 })).toEqual(
      [],
    );
    // The points themselves: exactly the InfluxDB schema (tags, fields, event time).
    expect(sortPoints(await s.dump(RAW_RP, READINGS))).toEqual(
      expectedPoints([...readingPoints(records, siteOf), ...readingPoints(moved)]),
    );
  });

  it('rewriting the same batch leaves the contents unchanged; a rewrite overwrites fields', async () => {
    const r = readings();
    const records = [
      r('dev-1', T0, { temperature: { value: 20.5, unit: 'Cel' } }),
      r('dev-1', T0 + SECOND, { temperature: { value: 20.75, unit: 'Cel' } }),
    ];
    const aggregates = [aggregate({ start: T0 }), aggregate({ start: T0, windowMs: 3_600_000 })];
    const opened = episode({ deviceId: 'dev-1', start: T0 + SECOND, peakValue: null });
    const full = batch({ readings: records, aggregates, events: [opened], siteOf });
    const contents = async () => ({
      readings: sortPoints(await s.dump(RAW_RP, READINGS)),
      aggregates: sortPoints(await s.dump(LONG_RP, AGGREGATES)),
      anomalies: sortPoints(await s.dump(LONG_RP, ANOMALIES)),
    });
    await s.store.writeBatch(full);
    const once = await contents();
    expect(once.aggregates).toEqual(expectedPoints(aggregatePoints(aggregates, siteOf)));
    expect(once.anomalies).toEqual(expectedPoints(episodePoints([opened], siteOf)));
    await s.store.writeBatch(full);
    await s.store.writeBatch(batch({ readings: records.slice(0, 1), siteOf }));
    expect(await contents()).toEqual(once);

    // The same point key with new values: overwritten in place (a resend with a new
    // gateway sequence number, a late correction of a window, an episode closing).
    const resent = { ...(records[0] as ReadingRecord), gatewaySeq: 99, seq: 5 };
    await s.store.writeBatch(batch({ readings: [resent], siteOf }));
    const corrected = aggregate({ start: T0, count: 5, max: 30, revision: 1 });
    const closed = episode(
      { deviceId: 'dev-1', start: T0 + SECOND, end: T0 + 9 * SECOND, peakValue: 33 },
      'closed',
    );
    await s.store.writeBatch(batch({ aggregates: [corrected], events: [closed], siteOf }));
    const after = await contents();
    expect(after.readings).toHaveLength(2);
    expect(
      (await s.store.readings({ deviceId: 'dev-1', from: T0, to: T0, limit: 10 }))[0],
    ).toMatchObject({ gatewaySeq: 99, seq: 5, metrics: { temperature: { value: 20.5 } } });
    expect(after.aggregates).toEqual(
      expectedPoints(aggregatePoints([corrected, aggregates[1] as Aggregate], siteOf)),
    );
    expect(after.anomalies).toEqual(expectedPoints(episodePoints([closed], siteOf)));

    // A rewrite without a field keeps the stored one: InfluxDB merges the fields of a point.
    await s.store.writeBatch(batch({ events: [opened], siteOf }));
    const [merged] = (await s.dump(LONG_RP, ANOMALIES)).map((p) => p.fields);
    expect(merged).toMatchObject({ state: 'open', last_event: 'opened', end: T0 + 9 * SECOND });
    expect(merged?.peak_value).toBe(33);
  });

  describe('series: buckets aligned to the epoch, one point per bucket and metric', () => {
    const r = readings();
    const gw2 = { gatewayId: 'gw-2' };
    const temperature = (time: number, value: number, extra = {}) =>
      r('dev-s', T0 + time, { temperature: { value, unit: 'Cel' } }, extra);
    const humidity = (time: number, value: number) =>
      r('dev-s', T0 + time, { humidity: { value, unit: '%RH' } });
    const data = [
      temperature(1000, 1),
      temperature(1000, 5, gw2), // same time, other gateway: first() takes the greater value
      temperature(2000, 3),
      temperature(2000, 2, gw2),
      humidity(3000, 40),
      temperature(12_000, 7),
      humidity(13_000, 41.5),
      temperature(25_000, 4),
      temperature(26_000, 6),
      temperature(30_001, 100), // after `to`
      r('dev-other', T0 + 1000, { temperature: { value: 1000 } }),
    ];
    const query = (fn: AggregateFn, over = {}) =>
      s.queries.series({
        deviceId: 'dev-s',
        from: T0 + 500, // not aligned: the first bucket still starts (and is labelled) at T0
        to: T0 + 30_000,
        metrics: undefined,
        everyMs: 10_000,
        fn,
        limit: 1000,
        ...over,
      });
    const buckets = (t: number[], h: number[]): SeriesPoint[] => [
      { time: T0, metric: 'humidity', value: h[0] as number },
      { time: T0, metric: 'temperature', value: t[0] as number },
      { time: T0 + 10_000, metric: 'humidity', value: h[1] as number },
      { time: T0 + 10_000, metric: 'temperature', value: t[1] as number },
      { time: T0 + 20_000, metric: 'temperature', value: t[2] as number },
    ];
    const exact: [AggregateFn, number[]][] = [
      ['mean', [2.75, 7, 5]],
      ['min', [1, 7, 4]],
      ['max', [5, 7, 6]],
      ['sum', [11, 7, 10]],
      ['first', [5, 7, 4]],
      ['last', [3, 7, 6]],
      ['median', [2.5, 7, 5]],
    ];
    beforeEach(async () => {
      await s.store.write(data);
    });

    it.each(exact)('%s', async (fn, t) => {
      expect(await query(fn)).toEqual(buckets(t, [40, 41.5]));
    });

    it('count', async () => {
      expect(await query('count')).toEqual(buckets([4, 1, 2], [1, 1]));
    });

    it('stddev: the sample one; no point for a bucket with one value', async () => {
      const points = await query('stddev');
      expect(points.map((p) => [p.time - T0, p.metric])).toEqual([
        [0, 'temperature'],
        [20_000, 'temperature'],
      ]);
      expect(points[0]?.value).toBeCloseTo(Math.sqrt(8.75 / 3), 12);
      expect(points[1]?.value).toBeCloseTo(Math.SQRT2, 12);
      // LIMIT counts the buckets InfluxDB answers with null (one value) before they are dropped.
      expect((await query('stddev', { limit: 2 })).map((p) => [p.time - T0, p.metric])).toEqual([
        [0, 'temperature'],
      ]);
    });

    it('metrics filter, limit, and widths that do not divide the hour', async () => {
      expect(await query('max', { metrics: ['temperature'] })).toEqual(
        buckets([5, 7, 6], [0, 0]).filter((p) => p.metric === 'temperature'),
      );
      expect(await query('max', { metrics: ['humidity', 'nope'], limit: 1 })).toEqual([
        { time: T0, metric: 'humidity', value: 40 },
      ]);
      expect(await query('mean', { limit: 3 })).toEqual(
        buckets([2.75, 7, 5], [40, 41.5]).slice(0, 3),
      );
      const at = (t: number) => Math.floor((T0 + t) / 7000) * 7000;
      const seven = await query('count', { everyMs: 7000, metrics: ['temperature'] });
      const expected = new Map<number, number>();
      for (const t of [1000, 1000, 2000, 2000, 12_000, 25_000, 26_000])
        expected.set(at(t), (expected.get(at(t)) ?? 0) + 1);
      expect(seven).toEqual(
        [...expected].map(([time, value]) => ({ time, metric: 'temperature', value })),
      );
    });
  });

  queriesContract(() => s);
}
