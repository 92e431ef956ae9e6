import type { IPoint } from 'influx';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { type HealthCounters, HealthReporter } from '../src/ops/health-reporter.ts';

const zero: HealthCounters = {
  readings: 0,
  records: 0,
  lag: {},
  partitions: 0,
  writes: 0,
  writeMs: 0,
  writeMsMax: 0,
  writeFailures: 0,
  invalid: 0,
  tooLate: 0,
  rejected: 0,
  writeRejected: 0,
  duplicates: 0,
  episodeEvents: 0,
  notifications: 0,
  notificationFailures: 0,
  notificationsUncertain: 0,
};

describe('HealthReporter', () => {
  it('turns cumulative counters into rates and interval latencies, and keeps going when a write fails', async () => {
    let now = 1_000_000;
    const c = structuredClone(zero);
    const written: IPoint[] = [];
    let fail = false;
    const reporter = new HealthReporter({
      instance: 'hub-a',
      intervalMs: 10_000,
      read: () => c,
      resetWriteMax: () => {
        c.writeMsMax = 0;
      },
      write: async (p) => {
        if (fail) throw new Error('influx down');
        written.push(p);
      },
      log: pino({ level: 'silent' }),
      now: () => now,
    });
    reporter.start();
    reporter.stop();
    Object.assign(c, {
      readings: 5000,
      records: 5100,
      lag: { '0': 10, '3': 5 },
      partitions: 2,
      writes: 4,
      writeMs: 100,
      writeMsMax: 40,
      invalid: 2,
      tooLate: 3,
      rejected: 2,
      writeRejected: 1,
    });
    now += 10_000;
    await reporter.report();
    expect(written[0]).toMatchObject({
      measurement: 'hub_health',
      tags: { hub: 'hub-a' },
      timestamp: now,
      fields: {
        readings_per_s: 500,
        records_per_s: 510,
        lag: 15,
        partitions: 2,
        write_latency_ms: 25,
        write_latency_max_ms: 40,
        dead_letters: 5,
        too_late: 3,
      },
    });
    expect(c.writeMsMax).toBe(0); // a new interval
    fail = true;
    now += 10_000;
    await reporter.report(); // logged, not thrown
    fail = false;
    c.readings += 1000;
    now += 10_000;
    await reporter.report();
    expect(written).toHaveLength(2);
    expect(written[1]?.fields).toMatchObject({ readings_per_s: 100, write_latency_ms: 0 });
  });
});
