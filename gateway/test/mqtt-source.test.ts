import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteOutbox } from '../src/outbox/sqlite-outbox.ts';
import type { Outbox } from '../src/ports.ts';
import { MqttSource } from '../src/sources/mqtt/mqtt-source.ts';

const log = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startWith(outbox: Outbox) {
  const source = new MqttSource({ host: '127.0.0.1', port: 0, outbox, log });
  const { port } = await source.start();
  cleanups.push(() => source.stop());
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: 'dev-1',
    reconnectPeriod: 0,
  });
  cleanups.push(() => client.endAsync(true));
  return { source, client };
}

describe('MqttSource (embedded aedes, real MQTT client)', () => {
  it('acknowledges a QoS 1 reading only once it is in the outbox', async () => {
    const outbox = new SqliteOutbox({
      path: join(mkdtempSync(join(tmpdir(), 'mq-')), 'o.sqlite'),
      batchWindowMs: 20,
    });
    cleanups.push(() => outbox.close());
    const { source, client } = await startWith(outbox);
    const payload = {
      session: 9,
      seq: 1,
      time: 1_700_000_000_000,
      metrics: { t: { value: 20.5, unit: 'Cel' } },
    };
    await client.publishAsync('iot/v1/dev-1/data', JSON.stringify(payload), { qos: 1 });
    // PUBACK arrived: the row must already be committed.
    expect(outbox.peek(10)).toEqual([
      expect.objectContaining({
        deviceId: 'dev-1',
        session: 9,
        seq: 1,
        time: 1_700_000_000_000,
        metrics: payload.metrics,
      }),
    ]);
    await client.publishAsync('iot/v1/dev-1/data', JSON.stringify(payload), { qos: 1 });
    expect(source.counters).toMatchObject({ received: 2, stored: 1, duplicates: 1 });
  });

  it('quarantines an undecodable payload, keeps it, and still acknowledges', async () => {
    const outbox = new SqliteOutbox({ path: join(mkdtempSync(join(tmpdir(), 'mq-')), 'o.sqlite') });
    cleanups.push(() => outbox.close());
    const { source, client } = await startWith(outbox);
    await client.publishAsync('iot/v1/dev-1/data', 'not json at all', { qos: 1 });
    expect(outbox.stats()).toMatchObject({ backlogRows: 0, quarantined: 1 });
    expect(source.counters).toMatchObject({ received: 1, quarantined: 1 });
  });

  it('withholds the acknowledgement when the commit fails', async () => {
    const failing: Outbox = {
      append: () => Promise.reject(new Error('database or disk is full')),
      quarantine: () => Promise.reject(new Error('database or disk is full')),
      peek: () => [],
      remove: () => undefined,
      stats: () => ({
        backlogRows: 0,
        backlogBytes: 0,
        oldestReceivedAt: null,
        quarantined: 0,
        quarantinedByCode: {},
        drops: {},
      }),
      close: () => undefined,
    };
    const { source, client } = await startWith(failing);
    const closed = new Promise<string>((resolve) => client.once('close', () => resolve('closed')));
    const acked = client
      .publishAsync('iot/v1/dev-1/data', '{"seq":1,"metrics":{"t":{"value":1}}}', { qos: 1 })
      .then(
        () => 'acked',
        () => 'failed',
      );
    expect(await Promise.race([acked, closed])).toBe('closed');
    expect(source.counters.failed).toBe(1);
  });

  it('lets other topics through without storing them', async () => {
    const outbox = new SqliteOutbox({ path: join(mkdtempSync(join(tmpdir(), 'mq-')), 'o.sqlite') });
    cleanups.push(() => outbox.close());
    const { source, client } = await startWith(outbox);
    await client.publishAsync('iot/v1/dev-1/state', 'online', { qos: 1, retain: true });
    expect(outbox.stats()).toMatchObject({ backlogRows: 0, quarantined: 0 });
    expect(source.counters.received).toBe(0);
  });
});
