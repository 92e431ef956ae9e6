// The streaming decoder from bytes [FP-2], [FP-6]: chunking, resynchronisation, counters.

import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../src/decoder.ts';
import { encodeFrame, FrameSender } from '../src/encoder.ts';
import { decodeFrameBytes } from '../src/frame.ts';
import { FLAG_ACK_REQUEST } from '../src/header.ts';
import type { Frame } from '../src/messages.ts';

const data = (seq: number, session = 9): Frame => ({
  version: 1,
  flags: 0,
  type: 'data',
  seq,
  session,
  body: { uptime: seq * 1000, readings: [[1, seq]] },
});
const concat = (...parts: Uint8Array[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => [...p]));

describe('FrameDecoder', () => {
  it('decodes frames split at every possible point', () => {
    const stream = concat(encodeFrame(data(0)), encodeFrame(data(1)));
    for (let cut = 0; cut <= stream.length; cut++) {
      const dec = new FrameDecoder();
      const events = [
        ...dec.push(stream.subarray(0, cut)),
        ...dec.push(stream.subarray(cut)),
        ...dec.end(),
      ];
      expect(events.map((e) => e.kind === 'frame' && e.frame.seq)).toEqual([0, 1]);
    }
  });

  it('reports offsets, raw bytes and the unframed form', () => {
    const a = encodeFrame(data(0));
    const garbage = Uint8Array.of(1, 2, 3, 0);
    const dec = new FrameDecoder();
    const [bad, good] = dec.push(concat(garbage, a));
    expect(bad).toMatchObject({
      kind: 'rejected',
      offset: 0,
      code: 'TRUNCATED',
      raw: Uint8Array.of(1, 2, 3),
      length: 3,
    });
    expect(good).toMatchObject({ kind: 'frame', offset: 4, status: 'first' });
    if (good?.kind === 'frame')
      expect(decodeFrameBytes(good.bytes)).toMatchObject({ ok: true, frame: data(0) });
  });

  it('counts gaps, duplicates, late frames and sessions [FP-6.1], [FP-6.2]', () => {
    const dec = new FrameDecoder();
    const seqs = [0, 1, 4, 4, 2, 3, 3, 5];
    const statuses = seqs
      .flatMap((s) => dec.push(encodeFrame(data(s))))
      .map((e) => e.kind === 'frame' && e.status);
    expect(statuses).toEqual([
      'first',
      'next',
      'gap',
      'duplicate',
      'late',
      'late',
      'duplicate',
      'next',
    ]);
    dec.push(encodeFrame(data(0, 10)));
    expect(dec.counters).toMatchObject({
      frames: 9,
      sessions: 2,
      gaps: 1,
      lost: 2,
      recovered: 2,
      duplicates: 2,
    });
  });

  it('builds cumulative and selective acknowledgements [FP-5.5]', () => {
    const dec = new FrameDecoder();
    expect(dec.ack()).toBeUndefined();
    const ackAfter = (seqs: number[], session = 9) => {
      for (const s of seqs) dec.push(encodeFrame(data(s, session)));
      return dec.ack();
    };
    expect(ackAfter([0, 1, 2])).toEqual({ session: 9, cumulative: 2 });
    // 3 and 4 lost, 5 and 7 received: cumulative 2, selective bits for 5 (i=2) and 7 (i=4).
    expect(ackAfter([5, 7])).toEqual({ session: 9, cumulative: 2, selective: 0b10100 });
    expect(ackAfter([3, 4])).toEqual({ session: 9, cumulative: 5, selective: 0b10 });
    expect(ackAfter([6])).toEqual({ session: 9, cumulative: 7 });
    // A new session starting at seq 100 (receiver joined late) acknowledges from there.
    expect(ackAfter([100], 10)).toEqual({ session: 10, cumulative: 100 });
    // The first frame a receiver sees is its baseline; 2 is missing after it.
    const fresh = new FrameDecoder();
    fresh.push(encodeFrame(data(1, 3)));
    fresh.push(encodeFrame(data(3, 3)));
    expect(fresh.ack()).toEqual({ session: 3, cumulative: 1, selective: 0b10 });
  });

  it('cuts an oversize frame at the limit and reports it once [FP-2.7]', () => {
    const dec = new FrameDecoder();
    const events = dec.push(
      concat(new Uint8Array(10_000).fill(0x41), Uint8Array.of(0), encodeFrame(data(0))),
    );
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ code: 'FRAME_TOO_LONG', length: 10_000 });
    expect(events[0]?.kind === 'rejected' && events[0].raw.length).toBe(256);
    expect(events[1]?.kind).toBe('frame');
  });

  it('accepts larger frames after setMaxFrame [FP-6.4]', () => {
    const big: Frame = {
      version: 1,
      flags: 0,
      type: 'log',
      seq: 0,
      session: 1,
      body: { level: 1, message: 'x'.repeat(900) },
    };
    const wire = encodeFrame(big, 1000);
    const dec = new FrameDecoder();
    expect(dec.push(wire)[0]).toMatchObject({ code: 'FRAME_TOO_LONG' });
    dec.setMaxFrame(1000);
    expect(dec.push(wire)[0]).toMatchObject({ kind: 'frame', frame: big });
    expect(() => dec.setMaxFrame(12)).toThrow(RangeError);
  });

  it('FrameSender numbers frames and wraps at 65535 [FP-3.6]', () => {
    const tx = new FrameSender(0xabcdef);
    const dec = new FrameDecoder();
    const events = [];
    const keep = new Set([0, 1, 2, 40000, 65534, 65535, 65536, 65537]);
    for (let i = 0; i < 65538; i++) {
      const wire = tx.send(
        { type: 'ack', body: { session: 1, cumulative: i & 0xffff } },
        i % 2 ? FLAG_ACK_REQUEST : 0,
      );
      if (keep.has(i)) events.push(...dec.push(wire));
    }
    expect(events.map((e) => e.kind === 'frame' && e.frame.seq)).toEqual([
      0, 1, 2, 40000, 65534, 65535, 0, 1,
    ]);
    // Long outages are gaps, not runs of duplicates [FP-6.1].
    expect(dec.counters).toMatchObject({ gaps: 2, lost: 39997 + 25533, duplicates: 0 });
  });
});
