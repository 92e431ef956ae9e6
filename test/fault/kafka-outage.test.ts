import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';
import { type KafkaCluster, startKafka } from '../../scripts/services/kafka.ts';
import { compareDelivery, formatReport } from '../support/fault-report.ts';
import { readingKey, readTopic } from '../support/kafka-read.ts';
import { Publisher } from '../support/publisher.ts';

// The broker crashes (SIGKILL) while devices publish: the gateway keeps acknowledging into its
// outbox, and once Kafka is back the backlog drains with nothing lost. Uses its own broker.
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-outage-${run}-`));
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

describe('Kafka outage', () => {
  it('keeps acknowledging while Kafka is down and delivers everything once it is back', {
    timeout: 240_000,
  }, async () => {
    kafka = await startKafka({ dir, nodes: 1, log: () => undefined });
    const topic = `outage-${run}`;
    const [mqttPort, httpPort] = await freePorts(2);
    gateway = spawnApp({
      name: 'gateway',
      bin: BINS.gateway,
      args: ['--brokers', kafka.brokers.join(','), '--topic', topic, '--gateway-id', `gw-${run}`],
      env: {
        MQTT_PORT: String(mqttPort),
        GATEWAY_HTTP_PORT: String(httpPort),
        OUTBOX_PATH: join(dir, 'outbox.sqlite'),
      },
      logFile: join(dir, 'gateway.log'),
    });
    await gateway.waitFor((l) => l.msg === 'Kafka connected', 60_000);
    const health = async () =>
      (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as Health;

    const acked = new Set<string>();
    const devices = Array.from({ length: 3 }, (_, i) => {
      const deviceId = `outage-${run}-${i}`;
      return new Publisher({
        url: `mqtt://127.0.0.1:${mqttPort}`,
        deviceId,
        session: 1,
        window: 20,
        onAck: (seq) => acked.add(readingKey(deviceId, 1, seq)),
      });
    });
    for (const d of devices) d.start();
    await new Promise((r) => setTimeout(r, 2000));

    await kafka.stopNode(0, 'SIGKILL');
    const ackedAtOutage = acked.size;
    await new Promise((r) => setTimeout(r, 8000));
    const during = await health();
    expect(acked.size - ackedAtOutage, 'acknowledged during the outage').toBeGreaterThan(1000);
    expect(during.outbox.backlogRows, 'buffered during the outage').toBeGreaterThan(0);
    expect(during.status).toBe('degraded');

    await kafka.startNode(0);
    await new Promise((r) => setTimeout(r, 2000));
    await Promise.all(devices.map((d) => d.stop()));
    const deadline = Date.now() + 120_000;
    let h = await health();
    while (h.outbox.backlogRows > 0 || h.status !== 'ok') {
      if (Date.now() > deadline) throw new Error(`did not recover: ${JSON.stringify(h)}`);
      await new Promise((r) => setTimeout(r, 500));
      h = await health();
    }

    const records = await readTopic(kafka.brokers, topic);
    const report = {
      seed: 0,
      faults: 1,
      ...compareDelivery(
        acked,
        records.map((r) => readingKey(r.deviceId, r.session, r.seq)),
      ),
    };
    console.log(formatReport('Kafka broker SIGKILL for 8 s', report));
    expect(report.lost).toBe(0);
    expect(await gateway.stop('SIGTERM')).toBe(0);
  });
});
