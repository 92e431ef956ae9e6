import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PtyPair } from '../../test/support/pty.ts';
import { SqliteOutbox } from '../src/outbox/sqlite-outbox.ts';
import { type ClockSettings, DEFAULT_CLOCK } from '../src/sources/device-clock.ts';
import { SerialSource } from '../src/sources/serial/serial-source.ts';
import { type DeviceMessage, SerialDevice } from './support/serial-device.ts';

// The serial source with the real serialport bindings over a real pseudo-terminal pair.
const log = pino({ level: 'silent' });
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const until = async (cond: () => boolean, what: string, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const hello: DeviceMessage = {
  type: 'hello',
  body: { deviceId: 'probe-7', firmware: '1.2.3', capabilities: 0x04 },
};
const describeSensors: DeviceMessage = {
  type: 'describe',
  body: {
    sensors: [
      { alias: 1, name: 'temperature', unit: 'Cel', scale: -2 },
      { alias: 2, name: 'humidity', unit: '%RH', scale: -1 },
    ],
  },
};
/** A plausible device stamp: the gateway refuses times outside 2000..2100 (clock faults). */
const T0 = 1_763_787_600_000;
const HOUR = 3_600_000;
const YEAR = 365 * 24 * HOUR;
const data = (t: number, raw: number): DeviceMessage => ({
  type: 'data',
  body: {
    time: t,
    readings: [
      [1, raw],
      [2, 455],
    ],
  },
});

async function setup(options: { startPtyFirst?: boolean; clock?: ClockSettings } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'serial-'));
  const pty = new PtyPair(dir);
  cleanups.push(() => pty.stop());
  if (options.startPtyFirst !== false) await pty.start();
  const outbox = new SqliteOutbox({ path: join(dir, 'outbox.sqlite') });
  cleanups.push(() => outbox.close());
  return { dir, pty, outbox, source: startSource(pty.gateway, outbox, options.clock) };
}

function startSource(path: string, outbox: SqliteOutbox, clock?: ClockSettings): SerialSource {
  const source = new SerialSource({
    path,
    baudRate: 115_200,
    identity: { gatewayId: 'gw-test', firmware: 'iot-gateway test', maxFrame: 1024 },
    outbox,
    acks: outbox,
    log,
    backoff: { minMs: 20, maxMs: 100 },
    clock,
  });
  source.start();
  cleanups.push(() => source.stop());
  return source;
}

async function device(path: string, session = 0xabc) {
  const d = new SerialDevice(path, session);
  await d.open();
  cleanups.push(() => d.close());
  return d;
}

describe('SerialSource over a pseudo-terminal pair', () => {
  it('stores scaled readings and acknowledges each only after it is committed', async () => {
    const { pty, outbox, source } = await setup();
    await until(() => source.counters.state === 'open', 'the port to open');
    const dev = await device(pty.device);
    await dev.send(hello);
    await dev.send(describeSensors);
    const { seq } = await dev.send(data(1_763_787_600_000, 2150));
    await until(() => dev.acked(seq), 'the ack');
    // The ack arrived: the reading must already be in the outbox.
    expect(outbox.peek(10)).toEqual([
      expect.objectContaining({
        deviceId: 'probe-7',
        session: 0xabc,
        seq,
        time: 1_763_787_600_000,
        metrics: {
          temperature: { value: 21.5, unit: 'Cel' },
          humidity: { value: 45.5, unit: '%RH' },
        },
      }),
    ]);
    expect(dev.received.find((f) => f.type === 'hello')?.body).toMatchObject({
      deviceId: 'gw-test',
      maxFrame: 1024,
    });
    expect(source.counters.device).toMatchObject({
      deviceId: 'probe-7',
      firmware: '1.2.3',
      sensors: 2,
    });
  });

  it('recovers frames after garbage, split writes and a corrupted frame, which it quarantines', async () => {
    const { pty, outbox, source } = await setup();
    await until(() => source.counters.state === 'open', 'the port to open');
    const dev = await device(pty.device);
    await dev.send(hello);
    await dev.send(describeSensors);
    await dev.raw([0x13, 0x37, 0xff, 0x01, 0x00]); // garbage, then a delimiter
    const good = await dev.send(data(T0 + 1000, 1));
    const corrupt = dev.next(data(T0 + 2000, 2));
    corrupt.wire[6] = (corrupt.wire[6] as number) ^ 0x40; // flip one bit inside the frame
    await dev.raw(corrupt.wire);
    const last = await dev.send(data(T0 + 3000, 3));
    const split = dev.next(data(T0 + 4000, 4)); // written a byte at a time
    for (const b of split.wire) await dev.raw([b]);
    await until(() => outbox.stats().backlogRows === 3, 'three stored readings');
    expect(outbox.peek(10).map((r) => r.seq)).toEqual([good.seq, last.seq, split.seq]);
    await until(
      () => outbox.stats().quarantined === 2,
      'the garbage and the corrupted frame in quarantine',
    );
    expect(source.counters.quarantinedByReason).toEqual({ COBS_INVALID: 1, CRC_MISMATCH: 1 });
    expect(source.counters.frames).toMatchObject({ rejected: 2, frames: 5 });
  });

  it('treats a new session as a reboot: same seqs, new readings', async () => {
    const { pty, outbox, source } = await setup();
    await until(() => source.counters.state === 'open', 'the port to open');
    const dev = await device(pty.device);
    await dev.send(hello);
    await dev.send(describeSensors);
    await dev.send(data(T0 + 1000, 1));
    dev.reboot(0xdef);
    await dev.send(hello);
    await dev.send(describeSensors);
    const after = await dev.send(data(T0 + 2000, 2));
    await until(() => dev.acked(after.seq), 'the ack after the reboot');
    expect(outbox.peek(10).map((r) => [r.session, r.seq])).toEqual([
      [0xabc, 2],
      [0xdef, 2],
    ]);
  });

  it('does not acknowledge data before hello, asks for hello, and takes the retransmission', async () => {
    const { pty, outbox, source } = await setup();
    await until(() => source.counters.state === 'open', 'the port to open');
    const dev = await device(pty.device);
    const early = await dev.send(data(T0 + 1000, 7));
    await until(() => dev.received.some((f) => f.type === 'error'), 'an error frame');
    expect(dev.received.find((f) => f.type === 'error')?.body).toMatchObject({
      code: 9,
      seq: early.seq,
    });
    expect(dev.received.some((f) => f.type === 'hello')).toBe(true);
    expect(dev.acked(early.seq)).toBe(false);
    await dev.send(hello);
    await dev.send(describeSensors);
    await dev.retransmit(early.seq);
    await until(() => outbox.stats().backlogRows === 1, 'the retransmitted reading');
    await until(() => dev.acked(early.seq), 'its ack');
    // Sent again after being stored: acknowledged, not stored twice.
    await dev.retransmit(early.seq);
    await until(() => source.counters.duplicates === 1, 'the duplicate');
    expect(outbox.stats().backlogRows).toBe(1);
  });

  it('quarantines readings with an unknown alias and asks for describe', async () => {
    const { pty, outbox, source } = await setup();
    await until(() => source.counters.state === 'open', 'the port to open');
    const dev = await device(pty.device);
    await dev.send(hello);
    const { seq } = await dev.send({ type: 'data', body: { time: 5, readings: [[9, 1]] } });
    await until(() => dev.received.some((f) => f.type === 'error'), 'an error frame');
    expect(dev.received.find((f) => f.type === 'error')?.body).toMatchObject({ code: 6, seq });
    await until(() => outbox.stats().quarantined === 1, 'quarantine');
    expect(source.counters.quarantinedByReason).toEqual({ UNKNOWN_ALIAS: 1 });
  });

  it('answers time requests and maps uptime to time', async () => {
    const { pty, outbox, source } = await setup();
    await until(() => source.counters.state === 'open', 'the port to open');
    const dev = await device(pty.device);
    await dev.send(hello);
    await dev.send(describeSensors);
    await dev.send({ type: 'timeRequest', body: { uptime: 5000 } });
    await until(() => dev.received.some((f) => f.type === 'timeResponse'), 'the time response');
    const response = dev.received.find((f) => f.type === 'timeResponse')?.body as {
      uptime: number;
      received: number;
      sent: number;
    };
    expect(response.uptime).toBe(5000);
    expect(Math.abs(response.received - Date.now())).toBeLessThan(5000);
    const before = Date.now();
    await dev.send({ type: 'data', body: { uptime: 60_000, readings: [[1, 100]] } });
    await until(() => outbox.stats().backlogRows === 1, 'the reading');
    const [row] = outbox.peek(1);
    expect(row?.time).toBeGreaterThanOrEqual(before - 1000);
    expect(row?.time).toBeLessThanOrEqual(Date.now());
  });

  it('waits for a missing port, and survives unplug and replug', async () => {
    const { pty, outbox, source } = await setup({ startPtyFirst: false });
    await until(() => source.counters.state === 'waiting', 'waiting for the port');
    await pty.start();
    await until(() => source.counters.state === 'open', 'the port to open');
    let dev = await device(pty.device);
    await dev.send(hello);
    await dev.send(describeSensors);
    await dev.send(data(T0 + 1, 1));
    await until(() => outbox.stats().backlogRows === 1, 'the first reading');
    await dev.close();
    await pty.stop(); // unplug
    await until(() => source.counters.state === 'waiting', 'noticing the unplug');
    await pty.start(); // replug
    await until(() => source.counters.state === 'open', 'reopening');
    dev = await device(pty.device, 0x777);
    await dev.send(hello);
    await dev.send(describeSensors);
    await dev.send(data(T0 + 2, 2));
    await until(() => outbox.stats().backlogRows === 2, 'the reading after replug');
    expect(source.counters.opens).toBe(2);
  });

  it('after a gateway restart, acknowledges only what it handled, from the persisted baseline', {
    timeout: 15_000,
  }, async () => {
    const { pty, outbox, source } = await setup();
    await until(() => source.counters.state === 'open', 'the port to open');
    const dev = await device(pty.device);
    await dev.send(hello);
    await dev.send(describeSensors);
    const first = await dev.send(data(T0 + 1000, 1));
    await until(() => dev.acked(first.seq), 'the first ack');
    await source.stop(); // the gateway goes away
    const pending = [await dev.send(data(T0 + 2000, 2)), await dev.send(data(T0 + 3000, 3))];
    const restarted = startSource(pty.gateway, outbox);
    // Opening a port may flush what was written meanwhile; a real device retransmits on its
    // timer. The frames arrive before any hello: refused, and the gateway asks for hello.
    await until(() => restarted.counters.state === 'open', 'the restarted port to open');
    for (const p of pending) await dev.retransmit(p.seq);
    await until(
      () => dev.received.filter((f) => f.type === 'hello').length >= 2,
      "the restarted gateway's hello",
    );
    await dev.send(hello);
    await dev.send(describeSensors);
    await new Promise((r) => setTimeout(r, 300)); // time for the gateway to (wrongly) acknowledge
    for (const p of pending)
      expect(dev.acked(p.seq), `seq ${p.seq} acknowledged before it was stored`).toBe(false);
    for (const p of pending) await dev.retransmit(p.seq);
    await until(() => pending.every((p) => dev.acked(p.seq)), 'acks for the retransmitted frames');
    expect(outbox.peek(10).map((r) => r.seq)).toEqual([first.seq, ...pending.map((p) => p.seq)]);
  });

  it('quarantines a year-ahead and an epoch-0 stamp with their reasons and acknowledges them; stores an hour back', async () => {
    const { pty, outbox, source } = await setup(); // the default clock policy
    await until(() => source.counters.state === 'open', 'the port to open');
    const dev = await device(pty.device);
    await dev.send(hello);
    await dev.send(describeSensors);
    const now = Date.now();
    const ahead = await dev.send(data(now + YEAR, 1));
    const epoch0 = await dev.send(data(42_000, 2)); // an RTC that started at 0 when it booted
    const back = await dev.send(data(now - HOUR, 3));
    // Kept on disk with the reason, so acknowledged: a retransmission would carry the same stamp.
    await until(() => [ahead, epoch0, back].every((f) => dev.acked(f.seq)), 'the acks');
    expect(outbox.peek(10)).toEqual([expect.objectContaining({ seq: back.seq, time: now - HOUR })]);
    expect(outbox.stats().quarantinedByCode).toEqual({ TIME_AHEAD: 1, TIME_INVALID: 1 });
    expect(source.counters).toMatchObject({
      stored: 1,
      quarantined: 2,
      quarantinedByReason: { TIME_AHEAD: 1, TIME_INVALID: 1 },
    });
  });

  it('restamps them under clock.policy restamp, keeping the device time', async () => {
    const { pty, outbox, source } = await setup({ clock: { ...DEFAULT_CLOCK, policy: 'restamp' } });
    await until(() => source.counters.state === 'open', 'the port to open');
    const dev = await device(pty.device);
    await dev.send(hello);
    await dev.send(describeSensors);
    const now = Date.now();
    await dev.send(data(now + YEAR, 1));
    await dev.send(data(42_000, 2));
    const last = await dev.send(data(now - HOUR, 3));
    await until(() => dev.acked(last.seq), 'the acks');
    const rows = outbox.peek(10);
    expect(rows.map((r) => r.deviceTime)).toEqual([now + YEAR, 42_000, undefined]);
    expect(rows[2]?.time).toBe(now - HOUR);
    for (const r of rows.slice(0, 2)) {
      expect(r.time).toBe(r.receivedAt);
      expect(Math.abs(r.time - now)).toBeLessThan(5000);
    }
    expect(source.counters).toMatchObject({
      stored: 3,
      quarantined: 0,
      restampedByReason: { TIME_AHEAD: 1, TIME_INVALID: 1 },
    });
  });
});
