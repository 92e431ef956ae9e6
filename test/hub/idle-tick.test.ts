import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadingRecord } from '@iot-stream/contracts';
import { InfluxDB } from 'influx';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { AppProcess } from '../../scripts/lib/app-process.ts';
import { readTopic } from '../support/kafka-read.ts';
import { produce, RULES_YAML, startHub, waitUntil } from './support.ts';

// A device alone in its partition goes silent and nothing else arrives there: without ticks,
// event time would stand still and the silence would never be reported.

const brokers = inject('kafkaBrokers');
const influxUrl = inject('influxUrl');
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-hub-tick-${run}-`));
const topic = `hub-tick-${run}`;
const database = `hub_tick_${run}`;
let hub: AppProcess | undefined;

afterAll(async () => {
  await hub?.stop('SIGKILL');
  if (!process.env.KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
});

describe('hub: quiet partitions', () => {
  it('ticks a quiet partition, so a silent device opens a heartbeat episode', async () => {
    const start = Date.now() - 40_000;
    const records: ReadingRecord[] = Array.from({ length: 30 }, (_, i) => ({
      v: 1,
      gatewayId: 'gw-1',
      gatewaySeq: i + 1,
      deviceId: 'lonely-1',
      time: start + i * 1000,
      receivedAt: start + i * 1000 + 5,
      metrics: { temperature: { value: 20 + (i % 3) / 10, unit: 'Cel' } },
    }));
    await produce(brokers, topic, records);
    writeFileSync(join(dir, 'rules.yaml'), RULES_YAML);
    const config = join(dir, 'hub.yaml');
    writeFileSync(
      config,
      `stream:\n  rulesFile: ${join(dir, 'rules.yaml')}\n  tickIntervalMs: 1000\nkafka:\n  deadLetterTopic: dlq-${run}\n  anomalyTopic: anomalies-${run}\n`,
    );
    hub = startHub({
      brokers,
      influxUrl,
      topic,
      group: `tick-${run}`,
      database,
      config,
      logFile: join(dir, 'hub.log'),
    });
    const influx = new InfluxDB({
      host: new URL(influxUrl).hostname,
      port: Number(new URL(influxUrl).port),
      database,
    });
    let rows: { detector: string; device: string; state: string }[] = [];
    await waitUntil(
      'a heartbeat episode for the silent device',
      async () => {
        rows = await influx.query(
          `SELECT "state", "device", "detector" FROM "long"."anomalies" WHERE "detector" = 'heartbeat'`,
        );
        return rows.length > 0;
      },
      60_000,
    );
    expect(rows[0]).toMatchObject({ device: 'lonely-1', detector: 'heartbeat', state: 'open' });
    // The ticks are in the log (so a replay sees them); readers of readings skip them.
    expect(await readTopic(brokers, topic)).toHaveLength(records.length);
  });
});
