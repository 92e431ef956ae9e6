import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@iot-stream/simulators';
import Database from 'better-sqlite3';
import mqttPacket from 'mqtt-packet';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { hashPassword } from '../../gateway/src/sources/mqtt/auth.ts';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';
import { compareDelivery, formatReport } from '../support/fault-report.ts';
import { readingKey, readTopic } from '../support/kafka-read.ts';
import { PtyPair } from '../support/pty.ts';
import { Publisher } from '../support/publisher.ts';
import { RetransmittingDevice } from '../support/retransmitting-device.ts';

// Hostile and malformed input against the real gateway binary while honest devices publish:
// random byte streams, mutated MQTT packets, oversized packets, wrong passwords, publishes to
// another device's topic, garbage on the serial line. Nothing may crash, every rejection is
// counted (once), everything quarantined is on disk, no password is ever stored, and the
// honest devices lose nothing.
const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
const brokers = inject('kafkaBrokers');
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-hostile-${run}-`));
const pty = new PtyPair(dir);
let gateway: AppProcess | undefined;

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  await pty.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Counters = {
  quarantined: number;
  rejected?: Record<string, number>;
  rateLimited?: Record<string, number>;
  frames?: { rejected: number };
};
interface Health {
  outbox: { backlogRows: number; quarantined: number; quarantinedByCode: Record<string, number> };
  sources: Record<string, Counters>;
}

function send(port: number, bytes: Uint8Array, holdMs = 200): Promise<void> {
  return new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1', () => {
      socket.write(bytes);
      setTimeout(() => socket.destroy(), holdMs);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

describe('hostile input', () => {
  it('crashes nothing, counts and keeps every rejection, loses nothing honest', {
    timeout: 120_000,
  }, async () => {
    const random = seededRandom(seed);
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
    await pty.start();
    const [mqttPort = 0, httpPort = 0] = await freePorts(2);
    const topic = `hostile-${run}`;
    writeFileSync(
      join(dir, 'devices.yaml'),
      `devices:\n  honest:\n    passwordHash: '${hashPassword('honest-pass')}'\n  other:\n    passwordHash: '${hashPassword('other-pass')}'\n`,
    );
    writeFileSync(
      join(dir, 'gateway.yaml'),
      [
        `gatewayId: gw-${run}`,
        `mqtt: { port: ${mqttPort}, auth: password, devicesFile: ${join(dir, 'devices.yaml')}, maxPacketBytes: 4096 }`,
        `serial: { ports: [{ path: ${pty.gateway} }] }`,
        `outbox: { path: ${join(dir, 'outbox.sqlite')} }`,
        `kafka: { brokers: [${brokers.join(', ')}], topic: ${topic} }`,
        `http: { port: ${httpPort} }`,
      ].join('\n'),
    );
    gateway = spawnApp({
      name: 'gateway',
      bin: BINS.gateway,
      args: ['--config', join(dir, 'gateway.yaml')],
      logFile: join(dir, 'gateway.log'),
    });
    await gateway.waitFor((l) => l.msg === 'serial port open', 30_000);
    const health = async () =>
      (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as Health;

    const acked = new Set<string>();
    const honest = new Publisher({
      url: `mqtt://127.0.0.1:${mqttPort}`,
      deviceId: 'honest',
      session: 1,
      window: 20,
      username: 'honest',
      password: 'honest-pass',
      onAck: (seq) => acked.add(readingKey('honest', 1, seq)),
    });
    const serial = new RetransmittingDevice({
      path: pty.device,
      deviceId: 'serial-honest',
      session: 77,
      window: 32,
      intervalMs: 10,
      onAck: (seq) => acked.add(readingKey('serial-honest', 77, seq)),
    });
    honest.start();
    await serial.start();

    const connect = (username: string, password: string) =>
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        clientId: username,
        keepalive: 0,
        username,
        password: Buffer.from(password),
      });
    const publish = (t: string, payload: Buffer, messageId = 1) =>
      mqttPacket.generate({
        cmd: 'publish',
        topic: t,
        payload,
        qos: 1,
        messageId,
        retain: false,
        dup: false,
      });
    const attacks: Array<() => Promise<void>> = [];
    for (let i = 0; i < 30; i += 1)
      attacks.push(() => send(mqttPort, bytes(1 + Math.floor(random() * 600))));
    for (let i = 0; i < 20; i += 1) {
      const packet = Buffer.from(
        publish('iot/v1/other/data', Buffer.from('{"seq":1,"metrics":{"t":{"value":1}}}')),
      );
      for (let k = 0; k < 3; k += 1)
        packet[Math.floor(random() * packet.length)] = Math.floor(random() * 256);
      attacks.push(() => send(mqttPort, Buffer.concat([connect('other', 'other-pass'), packet])));
    }
    for (let i = 0; i < 5; i += 1)
      attacks.push(() =>
        send(
          mqttPort,
          Buffer.concat([
            connect('other', 'other-pass'),
            publish('iot/v1/other/data', Buffer.alloc(10_000, 0x41)),
          ]),
        ),
      );
    for (let i = 0; i < 10; i += 1)
      attacks.push(() => send(mqttPort, connect('honest', 'wrong-pass')));
    for (let i = 0; i < 40; i += 1)
      attacks.push(async () => serial.noise(bytes(1 + Math.floor(random() * 80))));
    // Shuffle (seeded) and run in small concurrent groups.
    attacks.sort(() => random() - 0.5);
    for (let i = 0; i < attacks.length; i += 5)
      await Promise.all(attacks.slice(i, i + 5).map((a) => a()));
    // Publishes to another device's topic, one at a time (the same client id would take over a
    // concurrent connection), each held until the gateway closes the connection.
    for (let i = 0; i < 10; i += 1) {
      const forged = Buffer.from(`{"seq":${i},"metrics":{"t":{"value":666}}}`);
      await send(
        mqttPort,
        Buffer.concat([connect('other', 'other-pass'), publish('iot/v1/honest/data', forged)]),
        5000,
      );
    }

    await new Promise((r) => setTimeout(r, 1500));
    expect(gateway.child.exitCode, 'the gateway is still running').toBeNull();
    await honest.stop();
    await serial.drain(30_000);
    await serial.close();
    const drainBy = Date.now() + 60_000;
    let h = await health();
    while (h.outbox.backlogRows > 0) {
      if (Date.now() > drainBy) throw new Error('the backlog did not drain');
      await new Promise((r) => setTimeout(r, 250));
      h = await health();
    }

    const mqtt = h.sources.mqtt as Counters;
    const rejected = mqtt.rejected ?? {};
    expect(rejected['auth-failed'], 'wrong passwords refused').toBe(10);
    // Each refused login once: kept (a description, no password) or, over the per-address
    // rate for peers that never authenticated, only counted.
    expect(
      (h.outbox.quarantinedByCode.MQTT_CONNECT_REFUSED ?? 0) +
        (mqtt.rateLimited?.MQTT_CONNECT_REFUSED ?? 0),
      'refused logins, each kept or counted once',
    ).toBe(10);
    expect(
      rejected['publish-denied'],
      'publishes to another device refused',
    ).toBeGreaterThanOrEqual(10);
    // Random streams also declare huge packets, so they count here too.
    expect(rejected['packet-too-large'], 'oversized packets refused').toBeGreaterThanOrEqual(5);
    expect(rejected['protocol-error'] ?? 0, 'malformed streams refused').toBeGreaterThan(0);
    const serialCounters = h.sources[`serial:${pty.gateway}`] as Counters;
    expect(serialCounters.frames?.rejected, 'garbage frames on the serial line').toBeGreaterThan(0);
    // Everything counted as quarantined is on disk.
    const counted = Object.values(h.sources).reduce((n, c) => n + c.quarantined, 0);
    expect(h.outbox.quarantined).toBe(counted);
    expect(counted).toBeGreaterThan(15);
    expect(await gateway.stop('SIGTERM')).toBe(0);
    const db = new Database(join(dir, 'outbox.sqlite'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const file = join(dir, 'outbox.sqlite');
    const stored = Buffer.concat(
      [file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)),
    );
    for (const password of ['honest-pass', 'other-pass', 'wrong-pass'])
      expect(stored.includes(password), `${password} stored in the outbox`).toBe(false);

    const records = await readTopic(brokers, topic);
    expect(
      records.some((r) => r.deviceId === 'honest' && r.metrics.t?.value === 666),
      'a forged reading got through',
    ).toBe(false);
    const report = {
      seed,
      faults: attacks.length,
      ...compareDelivery(
        acked,
        records.map((r) => readingKey(r.deviceId, r.session, r.seq)),
      ),
    };
    console.log(
      `${formatReport('hostile input', report)} rejected=${JSON.stringify(rejected)} quarantined=${counted}`,
    );
    expect(report.acked).toBeGreaterThan(100);
    expect(report.lost, `seed ${seed}`).toBe(0);
  });
});
