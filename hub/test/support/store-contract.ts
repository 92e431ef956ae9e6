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
  GATEWAY_QUARANTINE,
  GATEWAY_STATUS,
  gatewayStatusPoints,
  HUB_HEALTH,
  LONG_RP,
  RAW_RP,
  READINGS,
  readingPoints,
} from '../../src/store/points.ts';
import type { Aggregate } from '../../src/windows/window-state.ts';

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
function readings() {
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

function episode(
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

function aggregate(over: Partial<Aggregate> & { start: number }): Aggregate {
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

function status(gatewayId: string, time: number, over: Partial<GatewayStatusRecord> = {}) {
  return { kind: 'gateway-status' as const, gatewayId, time, ...over };
}

const batch = (b: Partial<BatchOutput>): BatchOutput => ({
  readings: [],
  aggregates: [],
  events: [],
  ...b,
});
const siteOf = (deviceId: string) => (deviceId === 'dev-1' ? 'hall-a' : 'unassigned');

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

  it('devices: last seen, its gateway and open anomalies, since a time', async () => {
    const r = readings();
    await s.store.write([
      r('dev-1', T0 + 1000, { temperature: { value: 1 } }),
      r('dev-1', T0 + 5000, { humidity: { value: 2 } }, { gatewayId: 'gw-2' }),
      r('dev-1', T0 + 3000, { temperature: { value: 3 } }),
      r('dev-2', T0 + 2000, { temperature: { value: 4 } }),
      r('dev-2', T0 - 100_000, { temperature: { value: 5 } }, { gatewayId: 'gw-9' }),
      r('dev-old', T0 - 10_000, { temperature: { value: 6 } }),
    ]);
    await s.store.writeBatch(
      batch({
        events: [
          episode({ deviceId: 'dev-1', start: T0 + 100 }),
          episode({ deviceId: 'dev-1', start: T0 + 200, metric: 'humidity' }),
          episode({ deviceId: 'dev-1', start: T0 + 300, end: T0 + 400 }, 'closed'),
          episode({ deviceId: 'dev-1', start: T0 - 5000 }), // open, but started before `since`
          episode({ deviceId: 'dev-x', start: T0 + 100 }), // no readings: not a device here
        ],
        siteOf,
      }),
    );
    expect(await s.queries.devices(T0)).toEqual([
      { deviceId: 'dev-1', lastSeen: T0 + 5000, gateway: 'gw-2', openAnomalies: 2 },
      { deviceId: 'dev-2', lastSeen: T0 + 2000, gateway: 'gw-1', openAnomalies: 0 },
    ]);
    expect(
      (await s.queries.devices(T0 - 200_000)).map((d) => [d.deviceId, d.openAnomalies]),
    ).toEqual([
      ['dev-1', 3],
      ['dev-2', 0],
      ['dev-old', 0],
    ]);
    expect(await s.queries.devices(T0 + 6000)).toEqual([]);
  });

  it('anomalies: newest first, filtered by range, device and severity, paged', async () => {
    const e1 = episode({ deviceId: 'dev-1', start: T0 + 1000 });
    const e2 = episode(
      {
        deviceId: 'dev-1',
        start: T0 + 2000,
        metric: 'humidity',
        severity: 'critical',
        detector: 'robust-zscore',
        ruleId: 'r-hum',
        end: T0 + 9000,
        peakValue: null,
        peakScore: 7.25,
        peakTime: T0 + 2500,
      },
      'closed',
    );
    const e3 = episode({ deviceId: 'dev-2', start: T0 + 3000 });
    const e4 = episode({ deviceId: 'dev-2', start: T0 + 4000, severity: 'critical' });
    const e0 = episode({ deviceId: 'dev-1', start: T0 - 1000 });
    await s.store.writeBatch(batch({ events: [e1, e2, e3, e4, e0], siteOf }));
    const q = (over = {}) =>
      s.queries.anomalies({
        from: T0,
        to: T0 + 10_000,
        deviceId: undefined,
        severity: undefined,
        limit: 100,
        offset: 0,
        ...over,
      });
    const ids = async (over = {}) => (await q(over)).map((a) => a.id);
    const id = (e: EpisodeEvent) => e.episode.id;
    expect(await ids()).toEqual([e4, e3, e2, e1].map(id));
    const fields = episodePoints([e2])[0]?.fields ?? {};
    expect((await q()).find((a) => a.id === id(e2))).toEqual({
      id: id(e2),
      deviceId: 'dev-1',
      metric: 'humidity',
      rule: 'r-hum',
      detector: 'robust-zscore',
      severity: 'critical',
      start: T0 + 2000,
      end: T0 + 9000,
      state: 'closed',
      peakScore: 7.25,
      peakTime: T0 + 2500,
      peakValue: null,
      title: fields.title,
      text: fields.text,
    });
    expect((await q()).find((a) => a.id === id(e1))).toMatchObject({
      end: null,
      state: 'open',
      peakValue: 31.5,
    });
    expect(await ids({ deviceId: 'dev-1' })).toEqual([e2, e1].map(id));
    expect(await ids({ severity: 'critical' })).toEqual([e4, e2].map(id));
    expect(await ids({ deviceId: 'dev-1', severity: 'critical' })).toEqual([id(e2)]);
    expect(await ids({ deviceId: 'dev-9' })).toEqual([]);
    expect(await ids({ limit: 2 })).toEqual([e4, e3].map(id));
    expect(await ids({ limit: 2, offset: 2 })).toEqual([e2, e1].map(id));
    expect(await ids({ limit: 2, offset: 4 })).toEqual([]);
    expect(await ids({ from: T0 + 1000, to: T0 + 3000 })).toEqual([e3, e2, e1].map(id));
  });

  it('gateways: the newest status of each gateway since a time; quarantine by reason', async () => {
    const newest = status('gw-1', T0 + 2000, {
      version: '0.1.1',
      kafka: { connected: false },
      outbox: { backlogRows: 0, oldestReceivedAt: null, quarantinedByCode: { BAD_CRC: 2 } },
      forwarder: { forwarded: 12, failures: 1 },
    });
    const records = [
      status('gw-1', T0 + 1000, {
        version: '0.1.0',
        kafka: { connected: true },
        outbox: { backlogRows: 3, oldestReceivedAt: T0 - 500, oldestAgeMs: 1500 },
        forwarder: { forwarded: 10 },
      }),
      newest,
      status('gw-2', T0 + 1500),
      status('gw-old', T0 - 10_000, { forwarder: { forwarded: 1 } }),
    ];
    await s.store.writeGatewayStatus(records);
    expect(await s.queries.gateways(T0)).toEqual([
      {
        gatewayId: 'gw-1',
        time: T0 + 2000,
        version: '0.1.1',
        kafkaConnected: false,
        backlogRows: 0,
        oldestReceivedAt: null,
        forwarded: 12,
      },
      {
        gatewayId: 'gw-2',
        time: T0 + 1500,
        version: null,
        kafkaConnected: null,
        backlogRows: null,
        oldestReceivedAt: null,
        forwarded: 0,
      },
    ]);
    expect((await s.queries.gateways(T0 - 60_000)).map((g) => g.gatewayId)).toEqual([
      'gw-1',
      'gw-2',
      'gw-old',
    ]);
    expect(sortPoints(await s.dump(RAW_RP, GATEWAY_STATUS))).toEqual(
      expectedPoints(
        records.flatMap(gatewayStatusPoints).filter((p) => p.measurement === GATEWAY_STATUS),
      ),
    );
    expect(await s.dump(RAW_RP, GATEWAY_QUARANTINE)).toEqual(
      expectedPoints(gatewayStatusPoints(newest).slice(1)),
    );
  });

  it('hub health: one point at the given time', async () => {
    const point: IPoint = {
      measurement: HUB_HEALTH,
      tags: { hub: 'box-1' },
      fields: { readings_per_s: 12.5, lag: 0, partitions: 1, write_errors: 3 },
      timestamp: T0 + 1234,
    };
    await s.store.writeHealth(point);
    expect(await s.dump(RAW_RP, HUB_HEALTH)).toEqual(expectedPoints([point]));
  });
}
