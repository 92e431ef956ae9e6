import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@iot-stream/simulators';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';
import { compareDelivery, formatReport } from '../support/fault-report.ts';
import { readingKey, readTopic } from '../support/kafka-read.ts';
import { publisherFleet } from '../support/publisher.ts';

// SIGKILL the gateway at random moments while devices publish at QoS 1: every reading a device
// got a PUBACK for must reach Kafka, and the outbox must stay intact.
// FAULT_KILLS (default 8) and FAULT_SEED choose the schedule; `npm run test:fault` runs a longer one.
const kills = Number(process.env.FAULT_KILLS ?? 8);
const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
const brokers = inject('kafkaBrokers');
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-kill-${run}-`));
let gateway: AppProcess | undefined;

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('gateway under SIGKILL', () => {
  it(`loses no acknowledged reading over ${kills} kills`, {
    timeout: 60_000 + kills * 15_000,
  }, async () => {
    const random = seededRandom(seed);
    const topic = `kill-${run}`;
    const outboxPath = join(dir, 'outbox.sqlite');
    const [mqttPort, httpPort] = await freePorts(2);
    const startGateway = async () => {
      gateway = spawnApp({
        name: 'gateway',
        bin: BINS.gateway,
        args: ['--brokers', brokers.join(','), '--topic', topic, '--gateway-id', `gw-${run}`],
        env: {
          MQTT_PORT: String(mqttPort),
          GATEWAY_HTTP_PORT: String(httpPort),
          OUTBOX_PATH: outboxPath,
        },
        logFile: join(dir, 'gateway.log'),
      });
      await gateway.waitFor((l) => l.msg === 'MQTT broker listening', 30_000);
    };

    const acked = new Set<string>();
    const devices = publisherFleet({
      url: `mqtt://127.0.0.1:${mqttPort}`,
      prefix: `kill-${run}-`,
      sessionBase: 1000,
      acked,
    });

    await startGateway();
    for (const d of devices) d.start();
    for (let k = 0; k < kills; k += 1) {
      await new Promise((r) => setTimeout(r, 200 + Math.floor(random() * 1500)));
      await gateway?.stop('SIGKILL');
      await startGateway();
    }
    await new Promise((r) => setTimeout(r, 1000));
    await Promise.all(devices.map((d) => d.stop()));

    // Let the last gateway forward everything, then stop it cleanly.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const health = (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as {
        outbox: { backlogRows: number };
      };
      if (health.outbox.backlogRows === 0) break;
      if (Date.now() > deadline)
        throw new Error(`backlog did not drain: ${health.outbox.backlogRows} rows left`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await gateway?.stop('SIGTERM')).toBe(0);

    const db = new Database(outboxPath, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();

    const records = await readTopic(brokers, topic);
    const report = {
      seed,
      faults: kills,
      ...compareDelivery(
        acked,
        records.map((r) => readingKey(r.deviceId, r.session, r.seq)),
      ),
    };
    console.log(formatReport('gateway SIGKILL (MQTT QoS 1)', report));
    expect(report.acked, 'devices kept publishing').toBeGreaterThan(kills * 20);
    expect(report.lost, `seed ${seed}`).toBe(0);
  });
});
