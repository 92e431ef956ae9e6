import {
  type DecodedFrame,
  FLAG_ACK_REQUEST,
  FLAG_RETRANSMIT,
  type Frame,
  FrameDecoder,
  FrameSender,
} from '@iot-stream/firmware-protocol';
import { describe, expect, it } from 'vitest';
import { profileByName } from '../src/profiles/index.ts';
import { seededRandom } from '../src/random.ts';
import type { Sample } from '../src/sample.ts';
import { applyLineFaults, newLineFaultCounters } from '../src/transports/line-faults.ts';
import { covers, RetransmitQueue } from '../src/transports/retransmit-queue.ts';
import { SerialDeviceProtocol } from '../src/transports/serial-device.ts';

const frame = (seq: number): Frame => ({
  version: 1,
  flags: FLAG_ACK_REQUEST,
  seq,
  session: 7,
  type: 'data',
  body: { readings: [[1, seq]] },
});

describe('retransmission queue [FP-6.3]', () => {
  it('treats cumulative, 32767 before it, and selective bits as acknowledged', () => {
    expect(covers(10, 0, 10)).toBe(true);
    expect(covers(10, 0, 0)).toBe(true);
    expect(covers(10, 0, (10 - 32767) & 0xffff)).toBe(true);
    expect(covers(10, 0, (10 - 32768) & 0xffff)).toBe(false);
    expect(covers(10, 0, 11)).toBe(false);
    expect(covers(10, 0b101, 11)).toBe(true);
    expect(covers(10, 0b101, 12)).toBe(false);
    expect(covers(10, 0b101, 13)).toBe(true);
    expect(covers(65535, 1, 1)).toBe(false);
    expect(covers(65535, 1, 0)).toBe(true); // wraps
  });

  it('retransmits after 250 ms, doubling up to 4 s, until an ack covers the frame', () => {
    const q = new RetransmitQueue();
    const settled: boolean[] = [];
    q.keep(frame(0), 0, (ok) => settled.push(ok));
    const times: number[] = [];
    for (let now = 0; now <= 20_000; now += 10) if (q.due(now).length > 0) times.push(now);
    expect(times.slice(0, 7)).toEqual([250, 750, 1750, 3750, 7750, 11750, 15750]);
    expect(q.onAck(0, 0, 20_000).acknowledged).toBe(1);
    expect(settled).toEqual([true]);
    expect(q.size).toBe(0);
  });

  it('retransmits at once a frame that a later selective ack skipped', () => {
    const q = new RetransmitQueue({ fastGapMs: 50 });
    for (let s = 0; s < 4; s += 1) q.keep(frame(s), 0);
    const r = q.onAck(0, 0b10, 100); // 0 and 2 received, 1 and 3 not
    expect(r.acknowledged).toBe(2);
    expect(r.retransmit.map((k) => k.frame.seq)).toEqual([1]);
    expect(q.onAck(0, 0b10, 120).retransmit).toEqual([]); // not again right away
  });

  it('drops the oldest frame when full', () => {
    const q = new RetransmitQueue({ maxKept: 2 });
    const settled: string[] = [];
    for (let s = 0; s < 3; s += 1) q.keep(frame(s), 0, (ok) => settled.push(`${s}:${ok}`));
    expect(settled).toEqual(['0:false']);
    expect(q.clear()).toBe(2);
    expect(settled).toEqual(['0:false', '1:false', '2:false']);
  });
});

function decode(chunks: Uint8Array[]): DecodedFrame[] {
  const d = new FrameDecoder();
  return chunks.flatMap((c) => d.push(c)).filter((e): e is DecodedFrame => e.kind === 'frame');
}

const climate = profileByName('climate');
const sample = (uptime: number): Sample => ({
  trueTime: 1_000_000 + uptime,
  time: 1_000_500 + uptime,
  uptime,
  values: [
    { metric: climate.metrics[0] as Sample['values'][0]['metric'], value: 21.57 },
    { metric: climate.metrics[1] as Sample['values'][0]['metric'], value: 40.2 },
  ],
});

describe('serial device protocol', () => {
  it('boots with 0x00, hello and describe, then sends data with aliases and raw values', () => {
    const p = new SerialDeviceProtocol({
      deviceId: 'd-1',
      firmware: 'fw',
      metrics: climate.metrics,
    });
    const boot = p.boot(0xdeadbeef, 0);
    expect(boot[0]).toEqual(new Uint8Array([0]));
    const settled: Array<[boolean, number]> = [];
    const frames = decode([
      ...boot,
      ...p.data(sample(5000), 10, (ok, seq) => settled.push([ok, seq])),
    ]);
    expect(frames.map((f) => [f.frame.type, f.frame.seq, f.frame.flags])).toEqual([
      ['hello', 0, FLAG_ACK_REQUEST],
      ['describe', 1, FLAG_ACK_REQUEST],
      ['data', 2, FLAG_ACK_REQUEST],
    ]);
    expect(frames[0]?.frame.body).toEqual({ deviceId: 'd-1', firmware: 'fw', capabilities: 0x05 });
    expect(frames[1]?.frame.body).toEqual({
      sensors: [
        { alias: 1, name: 'temperature', unit: 'Cel', scale: -2 },
        { alias: 2, name: 'humidity', unit: '%RH', scale: -1 },
      ],
    });
    expect(frames[2]?.frame.body).toEqual({
      uptime: 5000,
      time: 1_005_500,
      readings: [
        [1, 2157],
        [2, 402],
      ],
    });
    const gw = new FrameSender(99);
    p.receive(gw.send({ type: 'ack', body: { session: 0xdeadbeef, cumulative: 2 } }), 20);
    expect(settled).toEqual([[true, 2]]);
    expect(p.kept).toBe(0);
  });

  it('retransmits with the RETRANSMIT flag and the same seq and body; ignores acks of other sessions', () => {
    const p = new SerialDeviceProtocol({
      deviceId: 'd-1',
      firmware: 'fw',
      metrics: climate.metrics,
    });
    const first = decode(p.boot(1, 0));
    p.data(sample(1), 0, () => undefined);
    p.receive(new FrameSender(9).send({ type: 'ack', body: { session: 2, cumulative: 2 } }), 100);
    const again = decode(p.poll(300));
    expect(again.map((f) => [f.frame.type, f.frame.seq, f.frame.flags])).toEqual([
      ['hello', 0, FLAG_ACK_REQUEST | FLAG_RETRANSMIT],
      ['describe', 1, FLAG_ACK_REQUEST | FLAG_RETRANSMIT],
      ['data', 2, FLAG_ACK_REQUEST | FLAG_RETRANSMIT],
    ]);
    expect(again[0]?.frame.body).toEqual(first[0]?.frame.body);
    expect(p.counters.retransmits).toBe(3);
  });

  it('introduces itself again for a restarted gateway or when told it is not ready', () => {
    const p = new SerialDeviceProtocol({
      deviceId: 'd-1',
      firmware: 'fw',
      metrics: climate.metrics,
    });
    p.boot(1, 0);
    const gw1 = new FrameSender(100);
    const hello = {
      type: 'hello',
      body: { deviceId: 'gw', firmware: 'g', capabilities: 0 },
    } as const;
    expect(p.receive(gw1.send(hello), 1000)).toEqual([]); // the answer to our hello
    const gw2 = new FrameSender(200);
    const types = (chunks: Uint8Array[]) => decode(chunks).map((f) => f.frame.type);
    expect(types(p.receive(gw2.send(hello), 2000))).toEqual(['hello', 'describe']);
    expect(types(p.receive(gw2.send({ type: 'error', body: { code: 9 } }), 3000))).toEqual([
      'hello',
      'describe',
    ]);
    expect(types(p.receive(gw2.send({ type: 'error', body: { code: 6 } }), 4000))).toEqual([
      'describe',
    ]);
    expect(types(p.receive(gw2.send({ type: 'error', body: { code: 6 } }), 4050))).toEqual([]); // rate limited
    expect(
      types(p.receive(gw2.send({ type: 'command', body: { id: 5, name: 'reset' } }), 5000)),
    ).toEqual(['commandResult']);
  });

  it('never runs more than 32 seqs ahead of its oldest unacknowledged frame [FP-6.1]', () => {
    const p = new SerialDeviceProtocol({
      deviceId: 'd-1',
      firmware: 'fw',
      metrics: climate.metrics,
    });
    p.boot(1, 0); // hello 0, describe 1
    let sent = 0;
    while (p.windowOpen) {
      p.data(sample(sent), 0, () => undefined);
      sent += 1;
    }
    expect(sent).toBe(30); // seqs 2..31
    p.receive(new FrameSender(9).send({ type: 'ack', body: { session: 1, cumulative: 0 } }), 10);
    expect(p.windowOpen).toBe(true);
  });

  it('in sync mode asks for the time, then stamps uptime + offset', () => {
    const p = new SerialDeviceProtocol({
      deviceId: 'd-1',
      firmware: 'fw',
      metrics: climate.metrics,
      clock: 'sync',
    });
    p.boot(1, 0);
    const first = decode(p.data(sample(10_000), 50_000, () => undefined));
    expect(first.map((f) => f.frame.type)).toEqual(['timeRequest', 'data']);
    expect(first[1]?.frame.body).not.toHaveProperty('time');
    const gw = new FrameSender(3);
    p.receive(
      gw.send({
        type: 'timeResponse',
        body: { uptime: 10_000, received: 1_700_000_000_000, sent: 1_700_000_000_000 },
      }),
      50_020,
    );
    const next = decode(p.data(sample(11_000), 51_000, () => undefined));
    expect(next[0]?.frame.body).toMatchObject({ uptime: 11_000 });
    const body = (next[0] as DecodedFrame).frame.body as unknown as { time: number };
    expect(Math.abs(body.time - (1_700_000_000_000 + 1000))).toBeLessThanOrEqual(20);
  });

  it('line faults: garbage before a frame, a flipped bit, a lost frame; all counted', () => {
    const c = newLineFaultCounters();
    const wire = new FrameSender(1).send({ type: 'data', body: { readings: [[1, 5]] } });
    const random = seededRandom(3);
    let longer = 0;
    for (let i = 0; i < 200; i += 1) {
      const out = applyLineFaults(wire, { garbage: 0.3, corrupt: 0.2, drop: 0.1 }, random, c);
      if (out.length === 2) longer += 1; // garbage, then the frame
    }
    expect(c.garbageBursts).toBeGreaterThan(30);
    expect(c.corruptedFrames).toBeGreaterThan(15);
    expect(c.droppedFrames).toBeGreaterThan(5);
    expect(longer).toBeGreaterThan(0);
    const decoder = new FrameDecoder();
    const corrupted = applyLineFaults(wire, { corrupt: 1 }, random, c);
    expect(decoder.push(corrupted[0] as Uint8Array).every((e) => e.kind === 'rejected')).toBe(true);
  });
});
