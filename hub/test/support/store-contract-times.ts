import { TIME_MAX } from '@iot-stream/contracts';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { StoreUnderTest } from './store-contract.ts';

/**
 * Part of the store contract (store-contract.ts), for every store: a point at or past TIME_MAX
 * (the record schema refuses such times now; an older hub wrote them) is never a device's
 * last-seen time, a gateway's newest status or an open anomaly, in either store, so one bad
 * stamp cannot take over (or, with a time no Date holds, break) the device and gateway lists.
 * Year 2200 is past TIME_MAX and still within what InfluxDB stores (up to 2262).
 */
export function timeRangeContract(open: () => Promise<StoreUnderTest>, t0: number): void {
  let s: StoreUnderTest;
  beforeEach(async () => {
    s = await open();
  });
  afterEach(async () => {
    await s.close();
  });

  it('a time past the record range is never a last-seen time or a newest status', async () => {
    const late = Date.UTC(2200, 0, 1);
    expect(late).toBeGreaterThan(TIME_MAX);
    const reading = (deviceId: string, gatewaySeq: number, time: number) => ({
      v: 1 as const,
      gatewayId: 'gw-1',
      gatewaySeq,
      deviceId,
      time,
      receivedAt: time,
      metrics: { temperature: { value: gatewaySeq, unit: 'Cel' } },
    });
    await s.store.write([
      reading('dev-1', 1, t0 + 1000),
      reading('dev-1', 2, late),
      reading('dev-late', 3, late),
    ]);
    await s.store.writeGatewayStatus([
      { kind: 'gateway-status', gatewayId: 'gw-1', time: t0 + 2000, forwarder: { forwarded: 5 } },
      { kind: 'gateway-status', gatewayId: 'gw-1', time: late, forwarder: { forwarded: 9 } },
      { kind: 'gateway-status', gatewayId: 'gw-late', time: late, forwarder: { forwarded: 1 } },
    ]);
    expect(await s.queries.devices(t0)).toEqual([
      { deviceId: 'dev-1', lastSeen: t0 + 1000, gateway: 'gw-1', openAnomalies: 0 },
    ]);
    expect((await s.queries.gateways(t0)).map((g) => [g.gatewayId, g.time, g.forwarded])).toEqual([
      ['gw-1', t0 + 2000, 5],
    ]);
  });
}
