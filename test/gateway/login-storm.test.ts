import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mqtt, { MqttClient } from 'mqtt';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { hashPassword } from '../../gateway/src/sources/mqtt/auth.ts';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';

// A fleet reconnecting after a network blip: 200 devices with passwords connect at once to the
// real gateway binary, each from its own (loopback) address, while a device that is already
// connected publishes at QoS 1, one message at a time. Password checks (scrypt, tens of ms
// each) must not stall the event loop: that device's PUBACKs stay fast. Checked to fail with
// scryptSync in verifyPassword (p99 in the seconds).
const FLEET = 200;
const brokers = inject('kafkaBrokers');
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-storm-${run}-`));
const clients: MqttClient[] = [];
let gateway: AppProcess | undefined;

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await gateway?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A device on its own address (127.0.1.x), as on a LAN: no per-address limit applies. */
function connectFrom(port: number, address: string, clientId: string): Promise<MqttClient> {
  const client = new MqttClient(
    () => createConnection({ port, host: '127.0.0.1', localAddress: address }),
    {
      clientId,
      username: clientId,
      password: 'fleet-password',
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 60_000,
      keepalive: 60,
    },
  );
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
    client.once('close', () => reject(new Error(`${clientId}: closed before CONNACK`)));
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

describe('a fleet logging in at once', () => {
  it('does not stall the PUBACKs of a connected device', { timeout: 180_000 }, async () => {
    const [mqttPort = 0, httpPort = 0] = await freePorts(2);
    const hash = hashPassword('fleet-password');
    const ids = ['probe', ...Array.from({ length: FLEET }, (_, i) => `dev-${i}`)];
    writeFileSync(
      join(dir, 'devices.yaml'),
      `devices:\n${ids.map((id) => `  ${id}: { passwordHash: '${hash}' }`).join('\n')}\n`,
    );
    writeFileSync(
      join(dir, 'gateway.yaml'),
      [
        `gatewayId: gw-${run}`,
        `mqtt: { port: ${mqttPort}, auth: password, devicesFile: ${join(dir, 'devices.yaml')} }`,
        `outbox: { path: ${join(dir, 'outbox.sqlite')} }`,
        `kafka: { brokers: [${brokers.join(', ')}], topic: storm-${run} }`,
        `http: { port: ${httpPort} }`,
        'log: { level: warn }',
      ].join('\n'),
    );
    gateway = spawnApp({
      name: 'gateway',
      bin: BINS.gateway,
      args: ['--config', join(dir, 'gateway.yaml')],
      logFile: join(dir, 'gateway.log'),
    });
    const url = `mqtt://127.0.0.1:${mqttPort}`;
    let probe: MqttClient | undefined;
    for (const deadline = Date.now() + 60_000; !probe; ) {
      probe = await mqtt
        .connectAsync(url, {
          clientId: 'probe',
          username: 'probe',
          password: 'fleet-password',
          reconnectPeriod: 0,
        })
        .catch((err: Error) => {
          if (Date.now() > deadline) throw err;
          return new Promise<undefined>((r) => setTimeout(() => r(undefined), 200));
        });
    }
    clients.push(probe);

    const samples: Array<{ at: number; ms: number }> = [];
    let publishing = true;
    const publisher = (async () => {
      for (let seq = 0; publishing; seq += 1) {
        const at = performance.now();
        const payload = JSON.stringify({
          session: 1,
          seq: seq % 65_536,
          metrics: { t: { value: seq } },
        });
        await probe.publishAsync('iot/v1/probe/data', payload, { qos: 1 });
        samples.push({ at, ms: performance.now() - at });
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await new Promise((r) => setTimeout(r, 500));

    const stormStart = performance.now();
    const fleet = await Promise.all(
      Array.from({ length: FLEET }, (_, i) =>
        connectFrom(mqttPort, `127.0.1.${i + 1}`, `dev-${i}`),
      ),
    );
    const stormEnd = performance.now();
    publishing = false;
    await publisher;

    expect(fleet.every((c) => c.connected)).toBe(true);
    const during = samples
      .filter((s) => s.at >= stormStart && s.at <= stormEnd)
      .map((s) => s.ms)
      .sort((a, b) => a - b);
    const before = samples
      .filter((s) => s.at < stormStart)
      .map((s) => s.ms)
      .sort((a, b) => a - b);
    const p50 = percentile(during, 50);
    const p99 = percentile(during, 99);
    console.log(
      `login storm: devices=${FLEET} loginMs=${Math.round(stormEnd - stormStart)} pubacks=${during.length} ` +
        `p50=${p50.toFixed(1)}ms p99=${p99.toFixed(1)}ms max=${(during.at(-1) ?? Number.NaN).toFixed(1)}ms ` +
        `(before: p50=${percentile(before, 50).toFixed(1)}ms p99=${percentile(before, 99).toFixed(1)}ms)`,
    );
    expect(during.length, 'PUBACKs measured while the fleet logged in').toBeGreaterThan(50);
    expect(p99, 'PUBACK p99 while 200 devices log in').toBeLessThan(100);
  });
});
