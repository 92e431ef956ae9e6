import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildApi } from '../src/http/api/app.ts';
import type { HubQueries } from '../src/ports.ts';
import { SqliteQueries } from '../src/sqlite/queries.ts';
import { SqliteStore } from '../src/sqlite/store.ts';
import { ANOMALIES, GATEWAY_STATUS, READINGS } from '../src/store/points.ts';

// A bad time already in a store (written before the record schema refused it, or by hand)
// never makes a device, the device list or the gateway list unqueryable: GET /api/devices
// answered 503 "Invalid time value" for good after one reading stamped 9007199254740991.

const NOW = Date.UTC(2026, 10, 22, 12);
const GOOD = NOW - 60_000;
const BAD_TIMES = [Number.MAX_SAFE_INTEGER, 9e15, 8.64e15 + 1];
const dir = mkdtempSync(join(tmpdir(), 'iot-hub-bad-times-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

function api(store: SqliteStore, queries: HubQueries = new SqliteQueries(store)) {
  const app = buildApi({
    store,
    queries,
    log: pino({ level: 'silent' }),
    now: () => NOW,
    health: async () => ({ status: 'ok' }),
  });
  apps.push(app);
  return app;
}

/** A store with good data, then rows stamped at `bad` put straight into its file. */
async function storeWithBadRows(bad: number, name: string) {
  const store = new SqliteStore({
    path: join(dir, `${name}.db`),
    rawRetention: 'INF',
    now: () => NOW,
  });
  await store.write([
    {
      v: 1,
      gatewayId: 'gw-1',
      gatewaySeq: 1,
      deviceId: 'dev-1',
      time: GOOD,
      receivedAt: GOOD,
      metrics: { temperature: { value: 21, unit: 'Cel' } },
    },
  ]);
  await store.writeGatewayStatus([
    { kind: 'gateway-status', gatewayId: 'gw-1', time: GOOD, forwarder: { forwarded: 5 } },
  ]);
  const seriesOf = (measurement: string, tags: string) =>
    (
      store.db
        .prepare('SELECT id FROM series WHERE measurement = ? AND tags LIKE ?')
        .get(measurement, `%${tags}%`) as { id: number }
    ).id;
  const insert = store.db.prepare(
    'INSERT INTO points (series_id, time, value, fields) VALUES (?, ?, ?, ?)',
  );
  // A newer (bad) reading of dev-1, and a newer (bad) status of gw-1.
  insert.run(seriesOf(READINGS, '"device":"dev-1"'), bad, 22, '{"seq":1,"gateway_seq":2}');
  insert.run(seriesOf(GATEWAY_STATUS, '"gateway":"gw-1"'), bad, null, '{"forwarded":9}');
  // A device whose only reading is bad.
  store.db
    .prepare(
      `INSERT INTO series (rp, measurement, tags, device, metric)
       VALUES ('raw', '${READINGS}', '{"device":"dev-bad","gateway":"gw-1","metric":"t"}', 'dev-bad', 't')`,
    )
    .run();
  insert.run(seriesOf(READINGS, '"device":"dev-bad"'), bad, 1, '{}');
  // An open episode whose end and peak time are bad.
  store.db
    .prepare(
      `INSERT INTO series (rp, measurement, tags, device, metric)
       VALUES ('long', '${ANOMALIES}', '{"device":"dev-1","metric":"temperature","severity":"warning"}', 'dev-1', 'temperature')`,
    )
    .run();
  insert.run(
    seriesOf(ANOMALIES, '"severity":"warning"'),
    GOOD,
    null,
    JSON.stringify({ id: 'e1', state: 'closed', peak_score: 1, peak_time: bad, end: bad }),
  );
  return store;
}

describe('a bad time in the SQLite store', () => {
  it.each(BAD_TIMES)(
    'at %d: devices, one device, gateways and anomalies still answer',
    async (bad) => {
      const store = await storeWithBadRows(bad, `t${bad}`);
      const app = api(store);
      const devices = await app.inject('/api/devices');
      expect(devices.statusCode, devices.body).toBe(200);
      // Skipped, so the device's last seen is its newest good reading.
      expect(devices.json().devices).toEqual([
        expect.objectContaining({ deviceId: 'dev-1', lastSeen: new Date(GOOD).toISOString() }),
      ]);
      const one = await app.inject('/api/devices/dev-1');
      expect(one.statusCode, one.body).toBe(200);
      expect((await app.inject('/api/devices/dev-bad')).statusCode).toBe(404);
      const gateways = await app.inject('/api/gateways');
      expect(gateways.statusCode, gateways.body).toBe(200);
      expect(gateways.json().gateways).toEqual([
        expect.objectContaining({
          gatewayId: 'gw-1',
          time: new Date(GOOD).toISOString(),
          forwarded: 5,
        }),
      ]);
      const anomalies = await app.inject('/api/anomalies');
      expect(anomalies.statusCode, anomalies.body).toBe(200);
      expect(anomalies.json().anomalies).toEqual([
        expect.objectContaining({ id: 'e1', end: null, peakTime: null }),
      ]);
      const readings = await app.inject('/api/devices/dev-1/readings');
      expect(readings.statusCode, readings.body).toBe(200);
      expect(readings.json().count).toBe(1);
      store.close();
    },
  );

  it('a store that hands the routes a time no Date can hold: that row is left out, never a 503', async () => {
    const store = await storeWithBadRows(Number.MAX_SAFE_INTEGER, 'routes');
    const real = new SqliteQueries(store);
    const unfiltered: HubQueries = {
      series: (q) => real.series(q),
      anomalies: (q) => real.anomalies(q),
      devices: async (since) => [
        ...(await real.devices(since)),
        { deviceId: 'dev-bad', lastSeen: Number.MAX_SAFE_INTEGER, gateway: null, openAnomalies: 0 },
      ],
      gateways: async (since) => [
        ...(await real.gateways(since)),
        {
          gatewayId: 'gw-bad',
          time: 9e15,
          version: null,
          kafkaConnected: null,
          backlogRows: null,
          oldestReceivedAt: null,
          forwarded: null,
        },
      ],
    };
    const app = api(store, unfiltered);
    const devices = await app.inject('/api/devices');
    expect(devices.statusCode, devices.body).toBe(200);
    expect(devices.json().devices.map((d: { deviceId: string }) => d.deviceId)).toEqual(['dev-1']);
    const gateways = await app.inject('/api/gateways');
    expect(gateways.statusCode, gateways.body).toBe(200);
    expect(gateways.json().gateways.map((g: { gatewayId: string }) => g.gatewayId)).toEqual([
      'gw-1',
    ]);
    store.close();
  });
});
