import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteOutbox } from '../src/outbox/sqlite-outbox.ts';
import type { Outbox } from '../src/ports.ts';
import { ExternalMqttSource } from '../src/sources/mqtt/external-mqtt-source.ts';
import type { MqttSubscriber } from '../src/sources/mqtt/subscriber.ts';

// Against a real Mosquitto (Debian's mosquitto package): the gateway's persistent session must
// get back every message it had not acknowledged when it went away.
const log = pino({ level: 'silent' });
let broker: ChildProcess;
let url: string;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-'));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  writeFileSync(
    join(dir, 'm.conf'),
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`,
  );
  broker = spawn('mosquitto', ['-c', join(dir, 'm.conf')], { stdio: 'ignore' });
  url = `mqtt://127.0.0.1:${port}`;
  for (let i = 0; ; i += 1) {
    const up = await new Promise<boolean>((resolve) => {
      const s = createConnection(port, '127.0.0.1', () => resolve(s.end() && true)).on(
        'error',
        () => resolve(false),
      );
    });
    if (up) break;
    if (i > 100) throw new Error('mosquitto did not start (is the mosquitto package installed?)');
    await new Promise((r) => setTimeout(r, 50));
  }
});
afterAll(() => broker.kill());
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const tempOutbox = () => {
  const o = new SqliteOutbox({ path: join(mkdtempSync(join(tmpdir(), 'ext-')), 'o.sqlite') });
  cleanups.push(() => o.close());
  return o;
};

async function publishAll(deviceId: string, count: number) {
  const device = await mqtt.connectAsync(url, { clientId: deviceId });
  for (let seq = 0; seq < count; seq += 1) {
    await device.publishAsync(
      `iot/v1/${deviceId}/data`,
      JSON.stringify({ seq, metrics: { v: { value: seq } } }),
      { qos: 1 },
    );
  }
  await device.endAsync();
}

const until = async (cond: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('ExternalMqttSource against Mosquitto', () => {
  it('stores what devices publish to the external broker', async () => {
    const outbox = tempOutbox();
    const source = new ExternalMqttSource({
      url,
      clientId: 'gw-a',
      topics: ['iot/v1/+/data'],
      outbox,
      log,
    });
    await source.start();
    cleanups.push(() => source.stop());
    await until(() => source.counters.connected);
    await new Promise((r) => setTimeout(r, 100)); // subscription in place
    await publishAll('dev-a', 20);
    await until(() => outbox.stats().backlogRows === 20);
    expect(outbox.peek(100).map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('applies the clock policy: a year-ahead stamp is restamped, keeping the device time', async () => {
    const outbox = tempOutbox();
    const source = new ExternalMqttSource({
      url,
      clientId: 'gw-clock',
      topics: ['iot/v1/+/data'],
      outbox,
      log,
      clock: { maxAheadMs: 300_000, maxBehindMs: 0, policy: 'restamp' },
    });
    await source.start();
    cleanups.push(() => source.stop());
    await until(() => source.counters.connected);
    await new Promise((r) => setTimeout(r, 100)); // subscription in place
    const device = await mqtt.connectAsync(url, { clientId: 'dev-clock' });
    const ahead = Date.now() + 365 * 24 * 3_600_000;
    const payload = { seq: 1, time: ahead, metrics: { v: { value: 1 } } };
    await device.publishAsync('iot/v1/dev-clock/data', JSON.stringify(payload), { qos: 1 });
    await device.endAsync();
    await until(() => outbox.stats().backlogRows === 1);
    const [row] = outbox.peek(1);
    expect(row).toMatchObject({ deviceTime: ahead, time: row?.receivedAt });
    expect(source.counters.restampedByReason).toEqual({ TIME_AHEAD: 1 });
  });

  it('gets back, after a crash, every message it had not acknowledged', async () => {
    // First life: subscribes, then hangs on the first message (its commit never finishes).
    const stuck: Outbox = Object.create(tempOutbox(), {
      append: { value: () => new Promise(() => undefined) },
      quarantine: { value: () => new Promise(() => undefined) },
    });
    const first = new ExternalMqttSource({
      url,
      clientId: 'gw-b',
      topics: ['iot/v1/+/data'],
      outbox: stuck,
      log,
    });
    await first.start();
    await until(() => first.counters.connected);
    await new Promise((r) => setTimeout(r, 100));
    await publishAll('dev-b', 10);
    await until(() => first.counters.received >= 1);
    // "Crash": the connection goes away without any further acknowledgement.
    (first as unknown as { subscriber: MqttSubscriber }).subscriber.abort();

    const outbox = tempOutbox();
    const second = new ExternalMqttSource({
      url,
      clientId: 'gw-b',
      topics: ['iot/v1/+/data'],
      outbox,
      log,
    });
    await second.start();
    cleanups.push(() => second.stop());
    await until(() => outbox.stats().backlogRows === 10);
    expect(outbox.peek(100).map((r) => r.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it('does not acknowledge a failed commit: the broker redelivers it', async () => {
    const real = tempOutbox();
    let failures = 1;
    const flaky: Outbox = Object.create(real, {
      append: {
        value: (r: Parameters<Outbox['append']>[0]) => {
          if (failures > 0) {
            failures -= 1;
            return Promise.reject(new Error('database or disk is full'));
          }
          return real.append(r);
        },
      },
    });
    const source = new ExternalMqttSource({
      url,
      clientId: 'gw-c',
      topics: ['iot/v1/+/data'],
      outbox: flaky,
      log,
    });
    await source.start();
    cleanups.push(() => source.stop());
    await until(() => source.counters.connected);
    await new Promise((r) => setTimeout(r, 100));
    await publishAll('dev-c', 3);
    await until(() => real.stats().backlogRows === 3, 15_000);
    expect(source.counters.failed).toBe(1);
    expect(source.counters.reconnects).toBeGreaterThanOrEqual(1);
  });
});
