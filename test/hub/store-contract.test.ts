import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayStatusRecord } from '@iot-stream/contracts';
import { InfluxDB } from 'influx';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { EpisodeEvent } from '../../hub/src/detect/engine-types.ts';
import { InfluxQueries } from '../../hub/src/influx/queries.ts';
import { InfluxStore } from '../../hub/src/influx/store.ts';
import type { AggregateFn, SeriesPoint } from '../../hub/src/ports.ts';
import { SqliteQueries } from '../../hub/src/sqlite/queries.ts';
import { SqliteStore } from '../../hub/src/sqlite/store.ts';
import { type StoredPoint, storeContract } from '../../hub/test/support/store-contract.ts';
import { timeRangeContract } from '../../hub/test/support/store-contract-times.ts';
import { fleetRecords, rng, T0 } from './support.ts';

// The store contract (hub/test/support/store-contract.ts) against a real InfluxDB 1.x: the
// reference the SQLite store of single-box mode is held to. A database per test.

const influxUrl = inject('influxUrl');
const run = randomBytes(4).toString('hex');
let n = 0;

describe('InfluxStore + InfluxQueries: the store contract', () => {
  const open = async () => {
    n += 1;
    const database = `store_contract_${run}_${n}`;
    const store = new InfluxStore({
      url: influxUrl,
      database,
      rawRetention: 'INF',
      aggregateRetention: 'INF',
    });
    await store.init();
    const url = new URL(influxUrl);
    const client = new InfluxDB({ host: url.hostname, port: Number(url.port), database });
    const dump = async (rp: string, measurement: string): Promise<StoredPoint[]> => {
      const results = await client.query(`SELECT * FROM "${rp}"."${measurement}" GROUP BY *`, {
        precision: 'ms',
      });
      return results.groups().flatMap((g) =>
        g.rows.map((row) => {
          const { time, ...rest } = row as Record<string, unknown> & { time: Date };
          const fields = Object.fromEntries(
            Object.entries(rest).filter(([k, v]) => v !== null && !(k in g.tags)),
          );
          // GROUP BY * gives a tag a series lacks as ''.
          const tags = Object.fromEntries(Object.entries(g.tags).filter(([, v]) => v !== ''));
          return { time: time.getTime(), tags, fields };
        }),
      );
    };
    return {
      store,
      queries: new InfluxQueries(store),
      dump,
      close: () => client.dropDatabase(database),
    };
  };
  storeContract(open);
  timeRangeContract(open, T0);
});

// The same random fleet into both stores: every query the REST API makes gives the same
// answer (sums and means to 1e-9 relative: SQLite adds with compensation, InfluxDB without).
describe('SqliteStore answers like InfluxDB on a random fleet', () => {
  const database = `store_diff_${run}`;
  const dir = mkdtempSync(join(tmpdir(), 'iot-store-diff-'));
  const influx = new InfluxStore({
    url: influxUrl,
    database,
    rawRetention: 'INF',
    aggregateRetention: 'INF',
  });
  const sqlite = new SqliteStore({ path: join(dir, 'hub.db'), rawRetention: 'INF' });
  const stores = [
    { store: influx, queries: new InfluxQueries(influx) },
    { store: sqlite, queries: new SqliteQueries(sqlite) },
  ] as const;
  const rnd = rng(7);
  const devices = ['dev-0', 'dev-1', 'dev-2', 'dev-3'];
  const records = fleetRecords(devices.length, 500, 3).map((r, i) => ({
    ...r,
    gatewayId: i % 7 === 0 ? 'gw-2' : r.gatewayId,
    metrics: i % 5 === 0 ? { ...r.metrics, door: { value: i % 2 } } : r.metrics,
  }));
  const severities = ['info', 'warning', 'critical'] as const;
  const events: EpisodeEvent[] = Array.from({ length: 60 }, (_, i) => {
    const deviceId = devices[i % devices.length] as string;
    const start = T0 + i * 7919 + Math.floor(rnd() * 5000);
    const closed = rnd() < 0.5;
    return {
      type: closed ? 'closed' : 'opened',
      time: start,
      episode: {
        id: `r/${deviceId}/temperature/${start}`,
        ruleId: i % 3 === 0 ? 'limits' : 'spikes',
        deviceId,
        metric: i % 4 === 0 ? 'humidity' : 'temperature',
        detector: i % 3 === 0 ? 'range' : 'robust-zscore',
        severity: severities[i % 3] as (typeof severities)[number],
        start,
        end: closed ? start + 30_000 : null,
        peakScore: rnd() * 10,
        peakTime: start + 500,
        peakValue: rnd() < 0.2 ? null : 20 + rnd(),
      },
    };
  });
  const statuses: GatewayStatusRecord[] = Array.from({ length: 30 }, (_, i) => ({
    kind: 'gateway-status',
    gatewayId: `gw-${i % 3}`,
    time: T0 + i * 10_000,
    version: '0.1.0',
    kafka: { connected: i % 2 === 0 },
    outbox: { backlogRows: i, oldestReceivedAt: i % 4 === 0 ? null : T0 + i },
    forwarder: { forwarded: i * 10 },
  }));

  beforeAll(async () => {
    await influx.init();
    for (const { store } of stores) {
      // dev-1 changes site half-way: two series for each of its metrics.
      for (let i = 0; i < records.length; i += 500)
        await store.writeBatch({
          readings: records.slice(i, i + 500),
          aggregates: [],
          events: [],
          siteOf: (d) => (d === 'dev-1' && i >= records.length / 2 ? 'hall-b' : 'unassigned'),
        });
      await store.writeBatch({ readings: [], aggregates: [], events });
      await store.writeGatewayStatus(statuses);
    }
  });
  afterAll(async () => {
    sqlite.close();
    rmSync(dir, { recursive: true, force: true });
    await new InfluxDB({
      host: new URL(influxUrl).hostname,
      port: Number(new URL(influxUrl).port),
    }).dropDatabase(database);
  });

  const both = async <T>(q: (s: (typeof stores)[number]) => Promise<T>): Promise<[T, T]> => [
    await q(stores[0]),
    await q(stores[1]),
  ];
  const span = { from: T0, to: T0 + 600_000 };

  it('readings', async () => {
    for (const [from, to, limit] of [
      [span.from, span.to, 10_000],
      [T0 + 12_345, T0 + 98_765, 10_000],
      [span.from, span.to, 7],
    ] as const)
      for (const deviceId of devices) {
        const [a, b] = await both((s) => s.store.readings({ deviceId, from, to, limit }));
        expect(b, `${deviceId} ${from} ${to} ${limit}`).toEqual(a);
        expect(a.length).toBeGreaterThan(0);
      }
  });

  it('series, every function and several widths', async () => {
    const fns: AggregateFn[] = [
      'mean',
      'min',
      'max',
      'sum',
      'count',
      'first',
      'last',
      'median',
      'stddev',
    ];
    for (const fn of fns)
      for (const everyMs of [1000, 7000, 60_000, 3_600_000])
        for (const [metrics, limit] of [
          [undefined, 100_000],
          [['temperature', 'door'], 100_000],
          [undefined, 9],
        ] as const) {
          const q = { deviceId: 'dev-1', ...span, from: T0 + 3333, metrics, everyMs, fn, limit };
          const [a, b] = await both((s) => s.queries.series(q));
          const what = `${fn} ${everyMs} ${metrics} ${limit}`;
          expect(a.length, what).toBeGreaterThan(0);
          expect(
            b.map((p) => [p.time, p.metric]),
            what,
          ).toEqual(a.map((p) => [p.time, p.metric]));
          b.forEach((p, i) => {
            const want = (a[i] as SeriesPoint).value;
            expect(Math.abs(p.value - want), what).toBeLessThanOrEqual(
              1e-9 * Math.max(1, Math.abs(want)),
            );
          });
        }
  });

  it('devices, anomalies and gateways', async () => {
    for (const since of [T0 - 1, T0 + 250_000, T0 + 10_000_000]) {
      const [a, b] = await both((s) => s.queries.devices(since));
      expect(b).toEqual(a);
      const [c, d] = await both((s) => s.queries.gateways(since));
      expect(d).toEqual(c);
    }
    for (const filter of [
      {},
      { deviceId: 'dev-2' },
      { severity: 'critical' },
      { deviceId: 'dev-1', severity: 'info' },
      { from: T0 + 100_000, to: T0 + 300_000 },
      { limit: 7, offset: 14 },
    ]) {
      const q = {
        ...span,
        deviceId: undefined,
        severity: undefined,
        limit: 1000,
        offset: 0,
        ...filter,
      };
      const [a, b] = await both((s) => s.queries.anomalies(q));
      expect(b, JSON.stringify(filter)).toEqual(a);
    }
  });
});
