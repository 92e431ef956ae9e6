import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';
import { compareDelivery, formatReport } from '../support/fault-report.ts';
import { readingKey, readTopic } from '../support/kafka-read.ts';
import { Publisher } from '../support/publisher.ts';

// The outbox lives on a 6 MiB tmpfs that fills up while Kafka is unreachable. The gateway must
// stop acknowledging (not crash), resume when space returns, and lose nothing it acknowledged.
// Needs root (mount); without it the test fails with that reason rather than skipping.
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-diskfull-${run}-`));
const fs = join(dir, 'fs');
let mounted = false;
let gateway: AppProcess | undefined;

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  if (mounted) execFileSync('umount', [fs]);
  rmSync(dir, { recursive: true, force: true });
});

interface Health {
  sources: { mqtt: { failed: number } };
  outbox: { backlogRows: number };
}

describe('outbox on a full disk', () => {
  it('stops acknowledging, survives, recovers, and loses nothing acknowledged', {
    timeout: 180_000,
  }, async () => {
    if (process.getuid?.() !== 0)
      throw new Error('the disk-full test mounts a tmpfs and needs root');
    mkdirSync(fs);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', fs]);
    mounted = true;
    writeFileSync(join(fs, 'filler'), Buffer.alloc(3 * 1024 * 1024));
    const outboxPath = join(fs, 'outbox.sqlite');
    const [mqttPort, httpPort, deadPort] = await freePorts(3);
    const topic = `diskfull-${run}`;
    const start = (brokers: string) => {
      gateway = spawnApp({
        name: 'gateway',
        bin: BINS.gateway,
        args: ['--brokers', brokers, '--topic', topic, '--gateway-id', `gw-${run}`],
        env: {
          MQTT_PORT: String(mqttPort),
          GATEWAY_HTTP_PORT: String(httpPort),
          OUTBOX_PATH: outboxPath,
        },
        logFile: join(dir, 'gateway.log'),
      });
      return gateway;
    };
    const health = async () =>
      (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as Health;

    // Phase 1: Kafka unreachable, the outbox grows until the disk is full.
    await start(`127.0.0.1:${deadPort}`).waitFor((l) => l.msg === 'MQTT broker listening', 30_000);
    const acked = new Set<string>();
    const device = new Publisher({
      url: `mqtt://127.0.0.1:${mqttPort}`,
      deviceId: `full-${run}`,
      session: 1,
      window: 50,
      onAck: (seq) => acked.add(readingKey(`full-${run}`, 1, seq)),
    });
    device.start();
    const deadline = Date.now() + 90_000;
    while ((await health()).sources.mqtt.failed === 0) {
      if (Date.now() > deadline)
        throw new Error(`the disk never filled: ${acked.size} acknowledged`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const ackedWhenFull = acked.size;
    await new Promise((r) => setTimeout(r, 2000));
    expect(acked.size - ackedWhenFull, 'acknowledgements while the disk is full').toBeLessThan(200);
    expect(gateway?.child.exitCode, 'the gateway is still running').toBeNull();

    // Phase 2: space returns; acknowledgements resume.
    rmSync(join(fs, 'filler'));
    const before = acked.size;
    const resumeBy = Date.now() + 30_000;
    while (acked.size < before + 500) {
      if (Date.now() > resumeBy)
        throw new Error('acknowledgements did not resume after space returned');
      await new Promise((r) => setTimeout(r, 200));
    }
    await device.stop();
    expect(await gateway?.stop('SIGTERM')).toBe(0);

    // Phase 3: restart against the real Kafka; everything acknowledged must arrive.
    const brokers = inject('kafkaBrokers');
    await start(brokers.join(',')).waitFor((l) => l.msg === 'MQTT broker listening', 30_000);
    const drainBy = Date.now() + 60_000;
    while ((await health()).outbox.backlogRows > 0) {
      if (Date.now() > drainBy) throw new Error('the backlog did not drain');
      await new Promise((r) => setTimeout(r, 250));
    }
    const records = await readTopic(brokers, topic);
    const report = {
      seed: 0,
      faults: 1,
      ...compareDelivery(
        acked,
        records.map((r) => readingKey(r.deviceId, r.session, r.seq)),
      ),
    };
    console.log(formatReport('outbox disk full (6 MiB tmpfs)', report));
    expect(report.lost).toBe(0);
  });
});
