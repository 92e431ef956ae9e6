import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { AppProcess } from '../../scripts/lib/app-process.ts';
import { fleetRecords, produce, progress, startHub, waitUntil } from './support.ts';

// A hub restarted after a crash joins its consumer group only once Kafka has given up on the
// dead member (up to kafka.sessionTimeoutMs): that wait is Kafka's. Its REST API answers
// meanwhile, saying it does not consume yet; it used to start listening only after the join.

const brokers = inject('kafkaBrokers');
const influxUrl = inject('influxUrl');
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-hub-rejoin-${run}-`));
const topic = `hub-rejoin-${run}`;
const group = `rejoin-${run}`;
const hubs: AppProcess[] = [];

afterAll(async () => {
  for (const hub of hubs) await hub.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Health {
  status: string;
  kafka: { connected: boolean } | null;
}

describe('a hub restarted after a crash', () => {
  it('answers its API during the group join: degraded until it consumes, then ok', {
    timeout: 120_000,
  }, async () => {
    const config = join(dir, 'hub.yaml');
    writeFileSync(
      config,
      `kafka:\n  sessionTimeoutMs: 15000\n  statusTopic: status-${run}\n  deadLetterTopic: dlq-${run}\n  anomalyTopic: anomalies-${run}\n`,
    );
    const records = fleetRecords(2, 100);
    await produce(brokers, topic, records);
    const start = (n: number) => {
      const hub = startHub({
        brokers,
        influxUrl,
        topic,
        group,
        database: `hub_rejoin_${run}`,
        config,
        logFile: join(dir, `hub-${n}.log`),
      });
      hubs.push(hub);
      return hub;
    };
    const first = start(1);
    await waitUntil('every offset committed', async () => {
      const p = await progress(brokers, topic, group);
      return p.committed === records.length;
    });
    await first.stop('SIGKILL'); // no LeaveGroup: the group waits for this member

    const second = start(2);
    const url = String((await second.waitFor((l) => l.msg === 'REST API listening')).url);
    const health = async () => (await (await fetch(`${url}/api/health`)).json()) as Health;
    const during = await health();
    const answeredAt = Date.now();
    const consuming = await second.waitFor((l) => l.msg === 'consuming', 60_000);
    expect(during).toMatchObject({ status: 'degraded', kafka: { connected: false } });
    // Answered before the join was done, which waited for the dead member's session to end.
    expect(Number(consuming.time)).toBeGreaterThan(answeredAt);
    await waitUntil('health ok once consuming', async () => (await health()).status === 'ok');
    expect((await health()).kafka).toMatchObject({ connected: true });
  });
});
