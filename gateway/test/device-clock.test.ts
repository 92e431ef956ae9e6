import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRecord, TIME_MAX, TIME_MIN } from '@iot-stream/contracts';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteOutbox } from '../src/outbox/sqlite-outbox.ts';
import {
  type ClockSettings,
  clockFault,
  DEFAULT_CLOCK,
  judgeReading,
} from '../src/sources/device-clock.ts';
import { MqttSource } from '../src/sources/mqtt/mqtt-source.ts';
import { recordOf } from '../src/uplink/record.ts';

// A device's wrong clock must never silence it at the hub: a stamp far ahead (cheap RTC, bad
// sync) or impossible (booted at epoch 0) is quarantined or restamped at the gateway.
const NOW = 1_763_787_600_000; // the gateway's clock in these tests
const HOUR = 3_600_000;
const YEAR = 365 * 24 * HOUR;
const restamp: ClockSettings = { ...DEFAULT_CLOCK, policy: 'restamp' };

describe('clockFault (pure)', () => {
  it.each([
    ['a correct stamp', NOW, undefined],
    ['an hour back (a clock that jumped back)', NOW - HOUR, undefined],
    ['days back (a backlog buffered offline)', NOW - 30 * 24 * HOUR, undefined],
    ['exactly maxAheadMs ahead', NOW + 300_000, undefined],
    ['1 ms beyond maxAheadMs', NOW + 300_001, 'TIME_AHEAD'],
    ['a year ahead', NOW + YEAR, 'TIME_AHEAD'],
    ['epoch 0 + uptime (a clock never set)', 42_000, 'TIME_INVALID'],
    ['1 ms before 2000-01-01', TIME_MIN - 1, 'TIME_INVALID'],
    ['2100-01-01 (excluded)', TIME_MAX, 'TIME_INVALID'],
    ['not an integer', NOW + 0.5, 'TIME_INVALID'],
  ])('%s', (_name, time, code) => {
    expect(clockFault(time, NOW, DEFAULT_CLOCK)?.code).toBe(code);
  });

  it('judges the past only when maxBehindMs is set', () => {
    const strict = { ...DEFAULT_CLOCK, maxBehindMs: 7 * 24 * HOUR };
    expect(clockFault(NOW - 6 * 24 * HOUR, NOW, strict)).toBeUndefined();
    expect(clockFault(NOW - 8 * 24 * HOUR, NOW, strict)?.code).toBe('TIME_BEHIND');
    // An RTC that reset to its default (2000-01-01) is in range: only maxBehindMs catches it.
    expect(clockFault(TIME_MIN + 5000, NOW, DEFAULT_CLOCK)).toBeUndefined();
    expect(clockFault(TIME_MIN + 5000, NOW, strict)?.code).toBe('TIME_BEHIND');
  });

  it('says in the reason what was wrong, by how much, and which setting', () => {
    expect(clockFault(NOW + YEAR, NOW, DEFAULT_CLOCK)?.reason).toBe(
      "device time 2026-11-22T05:00:00.000Z is 31536000000 ms ahead of the gateway's receive time 2025-11-22T05:00:00.000Z, more than clock.maxAheadMs (300000)",
    );
    expect(clockFault(9e15, NOW, DEFAULT_CLOCK)?.reason).toMatch(/^device time 9000000000000000 /);
  });

  it('restamps with the receive time and keeps what the device sent', () => {
    const reading = { deviceId: 'd', time: NOW + YEAR, receivedAt: NOW, metrics: {} };
    expect(judgeReading(reading, DEFAULT_CLOCK)).toMatchObject({
      kind: 'quarantine',
      fault: { code: 'TIME_AHEAD' },
    });
    expect(judgeReading(reading, restamp)).toMatchObject({
      kind: 'restamped',
      reading: { time: NOW, receivedAt: NOW, deviceTime: NOW + YEAR },
    });
    const fine = { ...reading, time: NOW - HOUR };
    expect(judgeReading(fine, restamp)).toEqual({ kind: 'kept', reading: fine });
  });
});

const log = pino({ level: 'silent' });
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function embedded(clock: ClockSettings | undefined) {
  const outbox = new SqliteOutbox({ path: join(mkdtempSync(join(tmpdir(), 'clk-')), 'o.sqlite') });
  cleanups.push(() => outbox.close());
  const source = new MqttSource({ host: '127.0.0.1', port: 0, outbox, log, now: () => NOW, clock });
  const { port } = await source.start();
  cleanups.push(() => source.stop());
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: 'rtc-1',
    reconnectPeriod: 0,
  });
  cleanups.push(() => client.endAsync(true));
  // Resolves on PUBACK: whatever happened to the reading is on disk by then.
  const publish = (seq: number, time: number) =>
    client.publishAsync(
      'iot/v1/rtc-1/data',
      JSON.stringify({ session: 1, seq, time, metrics: { t: { value: seq } } }),
      { qos: 1 },
    );
  return { outbox, source, publish };
}

describe('MQTT: a device with a wrong clock (embedded broker, real client)', () => {
  it('quarantines a year-ahead and an epoch-0 stamp with their reasons, acknowledged; stores an hour back', async () => {
    const { outbox, source, publish } = await embedded(undefined); // the default policy
    await publish(1, NOW + YEAR);
    await publish(2, 42_000); // booted at epoch 0, 42 s ago
    await publish(3, NOW - HOUR);
    expect(outbox.peek(10)).toEqual([expect.objectContaining({ seq: 3, time: NOW - HOUR })]);
    expect(outbox.peek(10)[0]).not.toHaveProperty('deviceTime');
    expect(outbox.stats()).toMatchObject({
      quarantined: 2,
      quarantinedByCode: { TIME_AHEAD: 1, TIME_INVALID: 1 },
    });
    expect(source.counters).toMatchObject({
      received: 3,
      stored: 1,
      quarantined: 2,
      quarantinedByReason: { TIME_AHEAD: 1, TIME_INVALID: 1 },
      restampedByReason: {},
    });
  });

  it('restamps them under clock.policy restamp, keeping the device time; valid records', async () => {
    const { outbox, source, publish } = await embedded(restamp);
    await publish(1, NOW + YEAR);
    await publish(2, 42_000);
    await publish(3, NOW - HOUR);
    await publish(1, NOW + YEAR); // a resend of the first: recognised, not stored again
    const rows = outbox.peek(10);
    expect(rows.map(({ seq, time, deviceTime }) => ({ seq, time, deviceTime }))).toEqual([
      { seq: 1, time: NOW, deviceTime: NOW + YEAR },
      { seq: 2, time: NOW, deviceTime: 42_000 },
      { seq: 3, time: NOW - HOUR, deviceTime: undefined },
    ]);
    for (const row of rows) expect(checkRecord(recordOf(row, 'gw-1', undefined)).ok).toBe(true);
    expect(outbox.stats().quarantined).toBe(0);
    expect(source.counters).toMatchObject({
      received: 4,
      stored: 3,
      duplicates: 1,
      quarantined: 0,
      restampedByReason: { TIME_AHEAD: 1, TIME_INVALID: 1 },
    });
  });

  it('refuses the past beyond clock.maxBehindMs when it is set', async () => {
    const { outbox, publish } = await embedded({ ...DEFAULT_CLOCK, maxBehindMs: 24 * HOUR });
    await publish(1, NOW - HOUR);
    await publish(2, TIME_MIN + 5000); // an RTC reset to its 2000-01-01 default
    expect(outbox.peek(10).map((r) => r.seq)).toEqual([1]);
    expect(outbox.stats().quarantinedByCode).toEqual({ TIME_BEHIND: 1 });
  });
});
