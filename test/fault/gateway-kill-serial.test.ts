import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@iot-stream/simulators';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { AppProcess } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';
import { startFaultGateway } from '../support/fault-gateway.ts';
import { compareDelivery, formatReport } from '../support/fault-report.ts';
import { readingKey, readTopic } from '../support/kafka-read.ts';
import { PtyPair } from '../support/pty.ts';
import { RetransmittingDevice } from '../support/retransmitting-device.ts';

// SIGKILL the gateway at random moments while a serial device (over a real pseudo-terminal,
// with the real serialport bindings) sends readings that it keeps until acknowledged: every
// reading the device got an ack for must reach Kafka. FAULT_KILLS / FAULT_SEED as for MQTT.
const kills = Number(process.env.FAULT_KILLS ?? 5);
const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
const brokers = inject('kafkaBrokers');
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-kill-serial-${run}-`));
const pty = new PtyPair(dir);
let gateway: AppProcess | undefined;

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  await pty.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('gateway under SIGKILL, serial device', () => {
  it(`loses no acknowledged serial reading over ${kills} kills`, {
    timeout: 90_000 + kills * 15_000,
  }, async () => {
    const random = seededRandom(seed);
    const topic = `kill-serial-${run}`;
    await pty.start();
    const [httpPort] = await freePorts(1);
    const config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      [
        `gatewayId: gw-${run}`,
        'mqtt: { embedded: false }',
        `serial: { ports: [{ path: ${pty.gateway}, baudRate: 115200 }] }`,
        `outbox: { path: ${join(dir, 'outbox.sqlite')} }`,
        `kafka: { brokers: [${brokers.join(', ')}], topic: ${topic} }`,
        `http: { port: ${httpPort} }`,
      ].join('\n'),
    );
    const startGateway = async () => {
      gateway = await startFaultGateway(config, dir, 'serial port open');
    };

    const acked = new Set<string>();
    const session = 0x5e55;
    const device = new RetransmittingDevice({
      path: pty.device,
      deviceId: `serial-${run}`,
      session,
      window: 64,
      intervalMs: 5,
      onAck: (seq) => acked.add(readingKey(`serial-${run}`, session, seq)),
    });
    await startGateway();
    await device.start();
    for (let k = 0; k < kills; k += 1) {
      await new Promise((r) => setTimeout(r, 300 + Math.floor(random() * 1500)));
      await gateway?.stop('SIGKILL');
      await startGateway();
    }
    await new Promise((r) => setTimeout(r, 1000));
    await device.drain(30_000);
    expect(device.pending, 'frames still unacknowledged at the end').toBe(0);
    await device.close();

    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await fetch(`http://127.0.0.1:${httpPort}/health`);
      const health = (await res.json()) as { outbox: { backlogRows: number } };
      if (health.outbox.backlogRows === 0) break;
      if (Date.now() > deadline)
        throw new Error(`backlog did not drain: ${health.outbox.backlogRows} rows left`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await gateway?.stop('SIGTERM')).toBe(0);

    const records = await readTopic(brokers, topic);
    const report = {
      seed,
      faults: kills,
      ...compareDelivery(
        acked,
        records.map((r) => readingKey(r.deviceId, r.session, r.seq)),
      ),
    };
    console.log(
      `${formatReport('gateway SIGKILL (serial)', report)} retransmitted=${device.retransmitted}`,
    );
    expect(report.acked, 'the device kept sending').toBeGreaterThan(kills * 20);
    expect(report.lost, `seed ${seed}`).toBe(0);
  });
});
