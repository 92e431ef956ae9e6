import { expect, it } from 'vitest';
import type { EpisodeEvent } from '../../src/detect/engine-types.ts';
import {
  episodePoints,
  GATEWAY_QUARANTINE,
  GATEWAY_STATUS,
  gatewayStatusPoints,
  HUB_HEALTH,
  RAW_RP,
  type Sample,
} from '../../src/store/points.ts';
import {
  batch,
  episode,
  expectedPoints,
  readings,
  type StoreUnderTest,
  siteOf,
  sortPoints,
  status,
  T0,
} from './store-contract.ts';

/**
 * The second half of the store contract (store-contract.ts): what the REST API reads besides
 * raw readings and series: devices, anomalies, gateways, the hub's health.
 */
export function queriesContract(current: () => StoreUnderTest): void {
  it('devices: last seen, its gateway and open anomalies, since a time', async () => {
    const r = readings();
    await current().store.write([
      r('dev-1', T0 + 1000, { temperature: { value: 1 } }),
      r('dev-1', T0 + 5000, { humidity: { value: 2 } }, { gatewayId: 'gw-2' }),
      r('dev-1', T0 + 3000, { temperature: { value: 3 } }),
      r('dev-2', T0 + 2000, { temperature: { value: 4 } }),
      r('dev-2', T0 - 100_000, { temperature: { value: 5 } }, { gatewayId: 'gw-9' }),
      r('dev-old', T0 - 10_000, { temperature: { value: 6 } }),
    ]);
    await current().store.writeBatch(
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
    expect(await current().queries.devices(T0)).toEqual([
      { deviceId: 'dev-1', lastSeen: T0 + 5000, gateway: 'gw-2', openAnomalies: 2 },
      { deviceId: 'dev-2', lastSeen: T0 + 2000, gateway: 'gw-1', openAnomalies: 0 },
    ]);
    expect(
      (await current().queries.devices(T0 - 200_000)).map((d) => [d.deviceId, d.openAnomalies]),
    ).toEqual([
      ['dev-1', 3],
      ['dev-2', 0],
      ['dev-old', 0],
    ]);
    expect(await current().queries.devices(T0 + 6000)).toEqual([]);
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
    await current().store.writeBatch(batch({ events: [e1, e2, e3, e4, e0], siteOf }));
    const q = (over = {}) =>
      current().queries.anomalies({
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
    await current().store.writeGatewayStatus(records);
    expect(await current().queries.gateways(T0)).toEqual([
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
    expect((await current().queries.gateways(T0 - 60_000)).map((g) => g.gatewayId)).toEqual([
      'gw-1',
      'gw-2',
      'gw-old',
    ]);
    expect(sortPoints(await current().dump(RAW_RP, GATEWAY_STATUS))).toEqual(
      expectedPoints(
        records.flatMap(gatewayStatusPoints).filter((p) => p.measurement === GATEWAY_STATUS),
      ),
    );
    expect(await current().dump(RAW_RP, GATEWAY_QUARANTINE)).toEqual(
      expectedPoints(gatewayStatusPoints(newest).slice(1)),
    );
  });

  it('hub health: one point at the given time', async () => {
    const point: Sample = {
      measurement: HUB_HEALTH,
      tags: { hub: 'box-1' },
      fields: { readings_per_s: 12.5, lag: 0, partitions: 1, write_errors: 3 },
      timestamp: T0 + 1234,
    };
    await current().store.writeHealth(point);
    expect(await current().dump(RAW_RP, HUB_HEALTH)).toEqual(expectedPoints([point]));
  });
}
