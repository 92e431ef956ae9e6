import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { InfluxStore } from '../../hub/src/influx/store.ts';

// A reading older than the raw retention policy makes InfluxDB answer 400 ("partial write:
// points beyond retention policy dropped=N") while storing the rest. Retrying would fail
// forever and stall the partition: the store counts the drop and treats the write as done.
describe('InfluxStore and readings older than the retention policy', () => {
  it('writes the rest, counts and reports the dropped points, and does not throw', async () => {
    const dropped: number[] = [];
    const store = new InfluxStore({
      url: inject('influxUrl'),
      database: `retention_${randomBytes(4).toString('hex')}`,
      rawRetention: '1h',
      onBeyondRetention: (n) => dropped.push(n),
    });
    await store.init();
    const now = Date.now();
    const reading = (seq: number, time: number) => ({
      v: 1 as const,
      gatewayId: 'gw-1',
      gatewaySeq: seq,
      deviceId: 'dev-1',
      time,
      receivedAt: now,
      metrics: { temperature: { value: seq, unit: 'Cel' } },
    });
    await store.writeBatch({
      readings: [reading(1, now - 2 * 24 * 3_600_000), reading(2, now - 1000)],
      aggregates: [],
      events: [],
    });
    expect(store.beyondRetention).toBe(1);
    expect(dropped).toEqual([1]);
    const stored = await store.readings({
      deviceId: 'dev-1',
      from: now - 3 * 24 * 3_600_000,
      to: now,
      limit: 10,
    });
    expect(stored.map((r) => r.gatewaySeq)).toEqual([2]);
  });
});
