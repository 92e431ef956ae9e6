import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRecord, type ReadingRecord } from '@iot-stream/contracts';
import mqtt from 'mqtt';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { SerialDevice } from '../../gateway/test/support/serial-device.ts';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';
import { readTopic } from '../support/kafka-read.ts';
import { PtyPair } from '../support/pty.ts';

// Devices with wrong clocks, over MQTT and over serial, through the real gateway binary to a
// real Kafka: a reading stamped a year ahead or at epoch 0 + uptime never reaches the topic as
// it is (the hub would dead-letter it, or let it move the device's watermark); it is kept in
// the quarantine with its reason, or restamped with deviceTime kept. A clock an hour back is
// not judged. Everything on the topic is a valid record.
const brokers = inject('kafkaBrokers');
const run = randomBytes(4).toString('hex');
const root = mkdtempSync(join(tmpdir(), `iot-clock-${run}-`));
const HOUR = 3_600_000;
const YEAR = 365 * 24 * HOUR;
const stops: Array<() => Promise<unknown>> = [];

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  rmSync(root, { recursive: true, force: true });
});

interface Health {
  outbox: { backlogRows: number; quarantinedByCode: Record<string, number> };
  sources: Record<
    string,
    { quarantinedByReason: Record<string, number>; restampedByReason: Record<string, number> }
  >;
}

async function startGateway(policy: 'quarantine' | 'restamp') {
  const dir = join(root, policy);
  const pty = new PtyPair(mkdtempSync(`${dir}-`));
  await pty.start();
  stops.push(() => pty.stop());
  const [mqttPort = 0, httpPort = 0] = await freePorts(2);
  const topic = `clock-${policy}-${run}`;
  const config = `${dir}.yaml`;
  writeFileSync(
    config,
    [
      `gatewayId: gw-${run}`,
      `mqtt: { port: ${mqttPort} }`,
      `serial: { ports: [{ path: ${pty.gateway} }] }`,
      `clock: { policy: ${policy} }`,
      `outbox: { path: ${dir}.sqlite }`,
      `kafka: { brokers: [${brokers.join(', ')}], topic: ${topic} }`,
      `http: { port: ${httpPort} }`,
    ].join('\n'),
  );
  const gateway: AppProcess = spawnApp({
    name: 'gateway',
    bin: BINS.gateway,
    args: ['--config', config],
    logFile: `${dir}.log`,
  });
  stops.push(() => gateway.stop('SIGKILL'));
  await gateway.waitFor((l) => l.msg === 'serial port open', 30_000);
  await gateway.waitFor((l) => l.msg === 'health endpoint listening', 30_000);
  const http = `http://127.0.0.1:${httpPort}`;
  return { gateway, pty, mqttPort, http, topic };
}

/** What each device sends, as [seq, its stamp]: right, a year ahead, epoch 0 + 42 s, an hour back. */
function stamps(now: number): Array<[number, number]> {
  return [
    [0, now],
    [1, now + YEAR],
    [2, 42_000],
    [3, now - HOUR],
  ];
}

/** Sends the four readings over MQTT and over serial; resolves once each was acknowledged. */
async function feed(g: Awaited<ReturnType<typeof startGateway>>, now: number) {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${g.mqttPort}`, {
    clientId: 'mqtt-dev',
  });
  for (const [seq, time] of stamps(now)) {
    const payload = { session: 1, seq, time, metrics: { t: { value: seq } } };
    await client.publishAsync('iot/v1/mqtt-dev/data', JSON.stringify(payload), { qos: 1 });
  }
  await client.endAsync();
  const device = new SerialDevice(g.pty.device, 2);
  await device.open();
  stops.push(() => device.close());
  await device.send({
    type: 'hello',
    body: { deviceId: 'serial-dev', firmware: '1.0.0', capabilities: 0x05 },
  });
  await device.send({ type: 'describe', body: { sensors: [{ alias: 1, name: 't' }] } });
  const sent = [];
  for (const [seq, time] of stamps(now)) {
    sent.push(await device.send({ type: 'data', body: { time, readings: [[1, seq]] } }));
  }
  const deadline = Date.now() + 15_000;
  while (!sent.every((f) => device.acked(f.seq))) {
    if (Date.now() > deadline) throw new Error('the serial frames were not all acknowledged');
    await new Promise((r) => setTimeout(r, 20));
  }
  await device.close();
}

/** Waits until the outbox is empty, then reads the whole topic (every record must decode). */
async function drained(g: Awaited<ReturnType<typeof startGateway>>) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const health = (await (await fetch(`${g.http}/health`)).json()) as Health;
    if (health.outbox.backlogRows === 0) {
      const records = await readTopic(brokers, g.topic);
      for (const r of records) expect(checkRecord(r)).toEqual({ ok: true, record: r });
      const metrics = await (await fetch(`${g.http}/metrics`)).text();
      return { health, records, metrics };
    }
    if (Date.now() > deadline) throw new Error('the outbox did not drain to Kafka');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** One device's records in the order it sent them (serial seqs count hello and describe too). */
const bySource = (records: ReadingRecord[], deviceId: string) =>
  records
    .filter((r) => r.deviceId === deviceId)
    .sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0))
    .map(({ time, receivedAt, deviceTime }) => ({ time, receivedAt, deviceTime }));

describe('device clock faults through the gateway to Kafka', () => {
  it('quarantine (default): only sane stamps reach the topic; the others are kept with their reason', async () => {
    const g = await startGateway('quarantine');
    const now = Date.now();
    await feed(g, now);
    const { health, records, metrics } = await drained(g);
    for (const deviceId of ['mqtt-dev', 'serial-dev']) {
      expect(bySource(records, deviceId)).toEqual([
        { time: now, receivedAt: expect.any(Number), deviceTime: undefined },
        { time: now - HOUR, receivedAt: expect.any(Number), deviceTime: undefined },
      ]);
    }
    expect(health.outbox.quarantinedByCode).toEqual({ TIME_AHEAD: 2, TIME_INVALID: 2 });
    expect(health.sources.mqtt?.quarantinedByReason).toEqual({ TIME_AHEAD: 1, TIME_INVALID: 1 });
    expect(health.sources[`serial:${g.pty.gateway}`]?.quarantinedByReason).toEqual({
      TIME_AHEAD: 1,
      TIME_INVALID: 1,
    });
    expect(metrics).toContain('iot_gateway_quarantined_total{reason="TIME_AHEAD"} 2');
    expect(metrics).toContain('iot_gateway_quarantined_total{reason="TIME_INVALID"} 2');
  });

  it('restamp: every reading reaches the topic, the faulty ones at receive time with deviceTime', async () => {
    const g = await startGateway('restamp');
    const now = Date.now();
    await feed(g, now);
    const { health, records, metrics } = await drained(g);
    expect(records).toHaveLength(8);
    for (const deviceId of ['mqtt-dev', 'serial-dev']) {
      const [right, ahead, epoch0, back] = bySource(records, deviceId);
      expect(right).toMatchObject({ time: now, deviceTime: undefined });
      expect(back).toMatchObject({ time: now - HOUR, deviceTime: undefined });
      expect(ahead).toMatchObject({ time: ahead?.receivedAt, deviceTime: now + YEAR });
      expect(epoch0).toMatchObject({ time: epoch0?.receivedAt, deviceTime: 42_000 });
      expect(Math.abs((ahead?.time ?? 0) - now)).toBeLessThan(60_000);
    }
    expect(health.outbox.quarantinedByCode).toEqual({});
    expect(health.sources.mqtt?.restampedByReason).toEqual({ TIME_AHEAD: 1, TIME_INVALID: 1 });
    expect(metrics).toContain('iot_gateway_restamped_total{reason="TIME_AHEAD"} 2');
    expect(metrics).toContain('iot_gateway_restamped_total{reason="TIME_INVALID"} 2');
  });
});
