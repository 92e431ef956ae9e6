import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DataBody,
  dataToJson,
  FLAG_ACK_REQUEST,
  FLAG_RETRANSMIT,
  FrameDecoder,
  type SensorDescription,
} from '@iot-stream/firmware-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { PtyPair } from '../../test/support/pty.ts';
import type { BehaviourOptions } from '../src/behaviours.ts';
import { scaledClock } from '../src/clock.ts';
import { SimDevice } from '../src/device.ts';
import type { DataPayload } from '../src/fleet.ts';
import { runFleet } from '../src/runner.ts';
import {
  SerialTransport,
  type SerialTransportOptions,
} from '../src/transports/serial-transport.ts';
import { spec } from './support/devices.ts';
import { type GatewayOptions, TestGateway } from './support/test-gateway.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(gateway: GatewayOptions = {}) {
  const pty = await new PtyPair().start();
  cleanups.push(() => pty.stop());
  const gw = new TestGateway(pty.gateway, gateway);
  cleanups.push(() => gw.close());
  return { pty, gw };
}

async function run(
  path: string,
  o: {
    count: number;
    intervalMs?: number;
    behaviours?: BehaviourOptions;
  } & Partial<SerialTransportOptions>,
) {
  const start = Date.now();
  const device = new SimDevice(spec('climate', { id: 'ser-001', intervalMs: o.intervalMs ?? 10 }), {
    seed: 5,
    start,
    behaviours: o.behaviours ?? {},
  });
  const transport = new SerialTransport({ seed: 5, ...o, paths: new Map([['ser-001', path]]) });
  const acked: DataPayload[] = [];
  const summary = await runFleet({
    sources: [device],
    transport,
    clock: scaledClock(start),
    count: o.count,
    window: 16,
    drainTimeoutMs: 5000,
    onAck: (_id, p) => acked.push(p),
  });
  return { summary, counters: transport.counters(), acked };
}

describe('serial transport over a pseudo-terminal pair', () => {
  it('introduces itself, sends data that decodes to the readings, counts acks', async () => {
    const { pty, gw } = await setup();
    const { summary, acked } = await run(pty.device, { count: 20 });
    expect(summary).toMatchObject({ sent: 20, acknowledged: 20, failed: 0 });
    const types = gw.frames.map((f) => f.frame.type);
    expect(types.slice(0, 2)).toEqual(['hello', 'describe']);
    expect(gw.frames[0]?.frame.body).toMatchObject({ deviceId: 'ser-001', firmware: 'iot-sim' });
    const described = gw.frames[1]?.frame.body as { sensors: SensorDescription[] } | undefined;
    const sensors = new Map((described?.sensors ?? []).map((s) => [s.alias, s]));
    const data = gw.data();
    expect(data.map((d) => d.frame.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    for (const d of data) expect(d.frame.flags).toBe(FLAG_ACK_REQUEST);
    const converted = data.map((d) => {
      const f = d.frame as { session: number; seq: number; body: DataBody };
      const r = dataToJson(f, sensors);
      return r.ok ? r.reading : undefined;
    });
    expect(converted).toEqual([...acked].sort((a, b) => a.seq - b.seq));
    expect(gw.rejected).toEqual([]);
  });

  it('retransmits unacknowledged frames with RETRANSMIT, same seq and body, until acked', async () => {
    const started = Date.now();
    const { pty, gw } = await setup({
      accept: (ev) => ev.frame.type !== 'data' || Date.now() - started > 900,
    });
    const { summary, counters } = await run(pty.device, { count: 3, intervalMs: 20 });
    expect(summary).toMatchObject({ sent: 3, acknowledged: 3, failed: 0 });
    expect(counters.retransmits).toBeGreaterThan(0);
    const first = gw.data().filter((d) => d.frame.seq === 2);
    expect(first.length).toBeGreaterThanOrEqual(3); // sent, +250 ms, +500 ms
    expect(first[0]?.frame.flags).toBe(FLAG_ACK_REQUEST);
    for (const again of first.slice(1)) {
      expect(again.frame.flags).toBe(FLAG_ACK_REQUEST | FLAG_RETRANSMIT);
      expect(again.frame.body).toEqual(first[0]?.frame.body);
      expect(again.frame.session).toBe(first[0]?.frame.session);
    }
    expect(summary.ackLatencyMs?.max).toBeGreaterThan(600);
  });

  it('recovers from garbage and flipped bits on the line: the gateway resynchronises', {
    timeout: 30_000,
  }, async () => {
    const { pty, gw } = await setup();
    const { summary, counters } = await run(pty.device, {
      count: 60,
      intervalMs: 5,
      faults: { garbage: 0.3, corrupt: 0.1 },
      retransmit: { initialMs: 100, maxMs: 400 },
    });
    expect(summary).toMatchObject({ sent: 60, acknowledged: 60, failed: 0 });
    expect(counters.garbageBytes).toBeGreaterThan(0);
    expect(counters.corruptedFrames).toBeGreaterThan(0);
    expect(gw.rejected.length).toBeGreaterThan(0);
    const received = new Set(gw.data().map((d) => d.frame.seq));
    for (let seq = 2; seq < 62; seq += 1) expect(received.has(seq), `seq ${seq}`).toBe(true);
  });

  it('a reboot shows as a new session that starts with hello and describe', async () => {
    const { pty, gw } = await setup();
    const { summary } = await run(pty.device, {
      count: 40,
      intervalMs: 10,
      behaviours: { rebootEveryMs: 100 },
    });
    expect(summary).toMatchObject({ sent: 40, acknowledged: 40, failed: 0 });
    const sessions = [...new Set(gw.frames.map((f) => f.frame.session))];
    expect(sessions.length).toBeGreaterThan(1);
    for (const s of sessions) {
      const frames = gw.frames.filter((f) => f.frame.session === s);
      expect(frames[0]).toMatchObject({ status: 'first', frame: { type: 'hello', seq: 0 } });
      expect(frames[1]?.frame).toMatchObject({ type: 'describe', seq: 1 });
    }
  });

  it('with --no-ack writes a capture file of frames without ACK_REQUEST', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'capture-')), 'capture.bin');
    const { summary } = await run(path, { count: 5, ack: false });
    expect(summary).toMatchObject({ sent: 5, acknowledged: 5, failed: 0 });
    const events = new FrameDecoder().push(readFileSync(path));
    expect(
      events.map((e) => (e.kind === 'frame' ? `${e.frame.type}:${e.frame.flags}` : e.code)),
    ).toEqual(['hello:0', 'describe:0', ...Array(5).fill('data:0')]);
  });
});
