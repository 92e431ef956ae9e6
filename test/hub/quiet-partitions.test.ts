import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRecord, type ReadingRecord } from '@iot-stream/contracts';
import { InfluxDB } from 'influx';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { AppProcess } from '../../scripts/lib/app-process.ts';
import { fakeClockEnv } from '../support/fake-clock.ts';
import { produce, RULES_YAML, startHub, waitUntil } from './support.ts';

// A device alone in its partition goes silent and nothing else arrives there: the hub moves the
// partition's time on itself (punctuation, in the partition's own time: its newest receivedAt
// plus the time elapsed since), so the silence is reported, without writing anything into the
// readings topic, and whatever the hub's own clock says.

const brokers = inject('kafkaBrokers');
const influxUrl = inject('influxUrl');
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-hub-quiet-${run}-`));
const hubs: AppProcess[] = [];
writeFileSync(join(dir, 'rules.yaml'), RULES_YAML);

afterAll(async () => {
  await Promise.all(hubs.map((h) => h.stop('SIGKILL')));
  if (!process.env.KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
});

const lonely = (n: number, from: number, gatewaySeq0: number): ReadingRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    v: 1,
    gatewayId: 'gw-1',
    gatewaySeq: gatewaySeq0 + i,
    deviceId: 'lonely-1',
    time: from + i * 1000,
    receivedAt: from + i * 1000 + 5,
    metrics: { temperature: { value: 20 + (i % 3) / 10, unit: 'Cel' } },
  }));

/** A hub on its own topic, group and database, its wall clock shifted by `clock`. */
async function scenario(name: string, clock: string | undefined) {
  const topic = `hub-quiet-${name}-${run}`;
  const database = `hub_quiet_${name}_${run}`;
  const first = lonely(30, Date.now() - 40_000, 1);
  await produce(brokers, topic, first);
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    `stream:\n  rulesFile: ${join(dir, 'rules.yaml')}\n  tickIntervalMs: 1000\nkafka:\n  deadLetterTopic: dlq-${name}-${run}\n  anomalyTopic: anomalies-${name}-${run}\n`,
  );
  const hub = startHub({
    brokers,
    influxUrl,
    topic,
    group: `quiet-${name}-${run}`,
    database,
    config,
    logFile: join(dir, `${name}.log`),
    env: clock ? fakeClockEnv(clock) : {},
  });
  hubs.push(hub);
  const listening = await hub.waitFor((l) => l.msg === 'REST API listening');
  const url = String(listening.url);
  // The shift took effect: the hub's own log times are an hour off (else this proves nothing).
  const skew = Number(listening.time) - Date.now();
  expect(
    Math.abs(skew - (clock === '+1h' ? 3_600_000 : clock === '-1h' ? -3_600_000 : 0)),
  ).toBeLessThan(60_000);
  const influx = new InfluxDB({
    host: new URL(influxUrl).hostname,
    port: Number(new URL(influxUrl).port),
    database,
  });
  return { topic, first, hub, url, influx };
}

type Scenario = Awaited<ReturnType<typeof scenario>>;

async function heartbeat(s: Scenario) {
  let rows: { time: Date; device: string; detector: string; state: string }[] = [];
  await waitUntil(
    'a heartbeat episode for the silent device',
    async () => {
      rows = await s.influx.query(
        `SELECT "state", "device", "detector" FROM "long"."anomalies" WHERE "detector" = 'heartbeat'`,
      );
      return rows.length > 0;
    },
    60_000,
  );
  return rows[0] as (typeof rows)[number];
}

/** Every record of the topic, as kcat (an independent client) reads it: key, headers, value. */
function kcatRead(topic: string): { key: string | null; headers: unknown; payload: string }[] {
  const out = execFileSync(
    'kcat',
    ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-J'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

describe('hub: quiet partitions', () => {
  it('reports a device silent alone in its partition; the readings topic holds only readings', async () => {
    const s = await scenario('base', undefined);
    const open = await heartbeat(s);
    expect(open).toMatchObject({ device: 'lonely-1', detector: 'heartbeat', state: 'open' });
    const seen = kcatRead(s.topic);
    expect(seen).toHaveLength(s.first.length); // nothing but the 30 readings, no control records
    for (const m of seen) {
      const r = checkRecord(JSON.parse(m.payload));
      expect(r.ok, m.payload).toBe(true);
      if (r.ok) expect(m.key).toBe(r.record.deviceId);
      expect(m.headers).not.toContain('iot-control');
    }
  });

  it.each([
    ['ahead', '+1h'],
    ['behind', '-1h'],
  ])(
    'a hub clock 1 h %s changes nothing: the silence is reported on time, live readings stay live',
    async (name, clock) => {
      const s = await scenario(name, clock);
      const startedAt = Date.now();
      const open = await heartbeat(s);
      const lastReading = (s.first.at(-1) as ReadingRecord).time;
      // The episode starts in the data's time, not an hour off.
      expect(open.time.getTime()).toBeGreaterThanOrEqual(lastReading);
      expect(open.time.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      expect(Date.now() - startedAt).toBeLessThan(60_000);
      // The device comes back: its readings are on time (not too late, windows not closed early).
      const back = lonely(20, Date.now(), 1000);
      await produce(brokers, s.topic, back);
      await waitUntil(
        'every reading in InfluxDB',
        async () => {
          const rows = await s.influx.query(
            `SELECT count("value") AS n FROM "raw"."readings" WHERE "device" = 'lonely-1'`,
          );
          return Number((rows[0] as { n?: number } | undefined)?.n) === 50;
        },
        60_000,
      );
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toMatch(/^iot_hub_too_late_total 0$/m);
      expect(metrics).toMatch(/^iot_hub_invalid_total 0$/m);
    },
  );
});
