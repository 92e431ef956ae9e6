import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@iot-stream/simulators';
import { afterAll, describe, expect, it } from 'vitest';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';
import { type KafkaCluster, startKafka } from '../../scripts/services/kafka.ts';
import { createReadingsTopic, withAdmin } from '../scale/cluster-admin.ts';
import { compareDelivery, formatReport } from '../support/fault-report.ts';
import { readingKey, readTopic } from '../support/kafka-read.ts';
import { killLeaders } from '../support/leader-kill.ts';
import { publisherFleet } from '../support/publisher.ts';

// Devices publish at QoS 1 into the real gateway, whose Kafka is a 3-broker cluster (RF 3,
// min.insync.replicas 2); the leader of a partition that gets readings is SIGKILLed, kept down
// past its fencing, and restarted, FAULT_KILLS times (default 3). Every reading a device got a
// PUBACK for must be in Kafka afterwards. Without the gateway's acknowledgement check
// (contracts/src/kafka-ack-check.ts), kafkajs 2.2.4 resolved sends that had written nothing to
// the killed leader's partitions and the outbox deleted those rows. Uses its own cluster.
const kills = Number(process.env.FAULT_KILLS ?? 3);
const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
const PARTITIONS = 6;
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-gwleader-${run}-`));
let kafka: KafkaCluster | undefined;
let gateway: AppProcess | undefined;

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  await kafka?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Health {
  status: string;
  outbox: { backlogRows: number };
}

describe('Kafka partition leader SIGKILLed under the gateway', () => {
  it(`loses no acknowledged reading over ${kills} leader kills`, {
    timeout: 180_000 + kills * 30_000,
  }, async () => {
    kafka = await startKafka({ dir, nodes: 3, log: () => undefined });
    const cluster = kafka;
    const topic = `gwleader-${run}`;
    await createReadingsTopic(cluster.brokers, topic, PARTITIONS);
    const [mqttPort, httpPort] = await freePorts(2);
    gateway = spawnApp({
      name: 'gateway',
      bin: BINS.gateway,
      args: ['--brokers', cluster.brokers.join(','), '--topic', topic, '--gateway-id', `gw-${run}`],
      env: {
        MQTT_PORT: String(mqttPort),
        GATEWAY_HTTP_PORT: String(httpPort),
        OUTBOX_PATH: join(dir, 'outbox.sqlite'),
      },
      logFile: join(dir, 'gateway.log'),
    });
    const connected = await gateway.waitFor((l) => l.msg === 'Kafka connected', 60_000);

    const acked = new Set<string>();
    const devices = publisherFleet({
      url: `mqtt://127.0.0.1:${mqttPort}`,
      prefix: `gwleader-${run}-`,
      sessionBase: 1,
      acked,
      count: 12,
      window: 50,
    });
    for (const d of devices) d.start();
    await new Promise((r) => setTimeout(r, 2000));
    // Kill the leaders of partitions that get readings (the devices' keys decide which).
    const busy = await withAdmin(cluster.brokers, async (admin) =>
      (await admin.fetchTopicOffsets(topic))
        .filter((p) => Number(p.high) > 0)
        .map((p) => p.partition),
    );
    expect(busy.length, 'partitions with readings').toBeGreaterThan(1);
    const killed = await killLeaders({
      kafka: cluster,
      topic,
      partitions: busy,
      kills,
      random: seededRandom(seed),
      log: (line) => console.log(`gateway leader kill: ${line}`),
    });
    await new Promise((r) => setTimeout(r, 1000));
    await Promise.all(devices.map((d) => d.stop()));

    const health = async () =>
      (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as Health;
    const deadline = Date.now() + 90_000;
    for (
      let h = await health();
      h.outbox.backlogRows > 0 || h.status !== 'ok';
      h = await health()
    ) {
      if (Date.now() > deadline) throw new Error(`did not drain: ${JSON.stringify(h)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const count = (prefix: string) =>
      (gateway as AppProcess).lines.filter((l) => String(l.msg).startsWith(prefix)).length;
    const incomplete = count('Kafka acknowledged a send incompletely');
    const failedSends = count('forwarding failed');
    const drainedAfterMs = Date.now() - (deadline - 90_000);
    expect(await gateway.stop('SIGTERM')).toBe(0);

    const records = await readTopic(cluster.brokers, topic, 120_000);
    const report = {
      seed,
      faults: killed.length,
      ...compareDelivery(
        acked,
        records.map((r) => readingKey(r.deviceId, r.session, r.seq)),
      ),
    };
    console.log(
      `${formatReport('Kafka leader SIGKILL under the gateway', report)} client=${connected.client} incompleteAcks=${incomplete} failedSends=${failedSends} drainedAfterMs=${drainedAfterMs}`,
    );
    expect(report.acked, 'devices kept publishing').toBeGreaterThan(kills * 1000);
    expect(report.lost, `seed ${seed}`).toBe(0);
  });
});
