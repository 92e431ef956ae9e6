// Property tests [FP-2.3], [FP-6.8]: round trip, no throw on any input, recovery after garbage.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../src/decoder.ts';
import { frameWire, tryEncodeFrame } from '../src/encoder.ts';
import { decodeFrameBytes } from '../src/frame.ts';
import { MAX_FRAME_LIMIT } from '../src/header.ts';
import { eventJson, frameJson } from '../src/json.ts';
import { crcValidFrameArb, frameArb, noisyBytes } from './support/arbitraries.ts';

const chunked = (dec: FrameDecoder, bytes: Uint8Array, sizes: number[]) => {
  const events = [];
  let i = 0;
  let k = 0;
  while (i < bytes.length) {
    const n = Math.max(1, sizes[k++ % sizes.length] ?? 1);
    events.push(...dec.push(bytes.subarray(i, i + n)));
    i += n;
  }
  return [...events, ...dec.end()];
};

describe('properties', { timeout: 60_000 }, () => {
  it('decode(encode(frame)) = frame, for any valid frame', () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        const r = tryEncodeFrame(frame, MAX_FRAME_LIMIT);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const back = decodeFrameBytes(r.bytes, MAX_FRAME_LIMIT);
        expect(back.ok && back.frame).toEqual(frame);
        // The JSON line form round-trips as well (what the tools print and read).
        const again = tryEncodeFrame(JSON.parse(frameJson(frame)), MAX_FRAME_LIMIT);
        expect(again.ok && again.bytes).toEqual(r.bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('any byte stream decodes without throwing, in any chunking, and counters add up', () => {
    fc.assert(
      fc.property(
        fc.oneof(noisyBytes(600), fc.uint8Array({ maxLength: 600 })),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 5 }),
        (bytes, sizes) => {
          const whole = new FrameDecoder();
          const a = [...whole.push(bytes), ...whole.end()].map(eventJson);
          const dec = new FrameDecoder();
          const b = chunked(dec, bytes, sizes).map(eventJson);
          expect(b).toEqual(a);
          const c = dec.counters;
          expect(c.bytes).toBe(bytes.length);
          expect(c.frames + c.rejected).toBe(b.length);
          expect(Object.values(c.errors).reduce((x, y) => x + y, 0)).toBe(c.rejected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('a valid frame after garbage and a delimiter is always recovered', () => {
    fc.assert(
      fc.property(noisyBytes(400), frameArb, fc.nat({ max: 3 }), (garbage, frame, zeros) => {
        const r = tryEncodeFrame(frame, 1000);
        if (!r.ok) return;
        const stream = Uint8Array.of(...garbage, ...new Uint8Array(zeros + 1), ...r.wire);
        const dec = new FrameDecoder({ maxFrame: 1000 });
        const events = [...dec.push(stream), ...dec.end()];
        const last = events[events.length - 1];
        expect(last?.kind === 'frame' && last.frame).toEqual(frame);
      }),
      { numRuns: 500 },
    );
  });

  it('frames with a valid CRC and any payload never throw; accepted ones re-encode to the same frame', () => {
    fc.assert(
      fc.property(crcValidFrameArb, (raw) => {
        const r = decodeFrameBytes(raw);
        if (r.ok) {
          // Bytes may differ only by unknown keys, which a receiver ignores [FP-5.1].
          const again = tryEncodeFrame(r.frame);
          expect(again.ok && decodeFrameBytes(again.bytes)).toEqual(r);
          if (again.ok && again.bytes.length === raw.length) expect(again.bytes).toEqual(raw);
        }
        const dec = new FrameDecoder();
        expect(dec.push(frameWire(raw))).toHaveLength(1);
      }),
      { numRuns: 2000 },
    );
  });

  it('a single flipped bit is always detected', () => {
    fc.assert(
      fc.property(frameArb, fc.nat(), fc.nat({ max: 7 }), (frame, at, bit) => {
        const r = tryEncodeFrame(frame, MAX_FRAME_LIMIT);
        if (!r.ok) return;
        const raw = r.bytes.slice();
        raw[at % raw.length]! ^= 1 << bit;
        expect(decodeFrameBytes(raw, MAX_FRAME_LIMIT)).toMatchObject({
          ok: false,
          code: 'CRC_MISMATCH',
        });
      }),
      { numRuns: 500 },
    );
  });
});
