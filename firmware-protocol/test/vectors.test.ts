// The shared vectors (vectors/*.json) against the TypeScript codec, with independent oracles:
// zlib.crc32 for CRC-32 and cbor2 for the payload bytes. The C reference reads the same files.

import { readFileSync } from 'node:fs';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { decode as cbor2Decode } from 'cbor2';
import { describe, expect, it } from 'vitest';
import { cborDecode } from '../src/cbor.ts';
import { cobsDecode, cobsEncode } from '../src/cobs.ts';
import { crc32 } from '../src/crc.ts';
import { FrameDecoder } from '../src/decoder.ts';
import { tryEncodeFrame } from '../src/encoder.ts';
import { eventJson, fromHex, statsJson, toHex } from '../src/json.ts';
import { decodeBody } from '../src/message-decode.ts';
import { encodeBody } from '../src/message-encode.ts';
import type { MessageTypeName } from '../src/messages.ts';

const load = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8')) as T;
const hex = (s: string): Uint8Array => fromHex(s)!;

describe('crc.json [FP-3.8]', () => {
  const { vectors } = load<{ vectors: Array<{ name: string; hex: string; crc: number }> }>(
    'crc.json',
  );
  it.each(vectors)('$name', ({ hex: h, crc }) => {
    expect(crc32(hex(h))).toBe(crc);
    expect(zlibCrc32(hex(h))).toBe(crc);
  });
});

describe('cobs.json [FP-2.1]', () => {
  const v = load<{
    roundtrip: Array<{ name: string; decoded: string; encoded: string }>;
    decodeOnly: Array<{ name: string; decoded: string; encoded: string }>;
    fail: Array<{ name: string; encoded: string; at: number }>;
  }>('cobs.json');
  it.each(v.roundtrip)('$name', ({ decoded, encoded }) => {
    expect(toHex(cobsEncode(hex(decoded)))).toBe(encoded);
    expect(cobsDecode(hex(encoded))).toEqual({ ok: true, data: hex(decoded) });
    expect(hex(encoded).includes(0)).toBe(false);
  });
  it.each(v.decodeOnly)('decodes $name', ({ decoded, encoded }) => {
    expect(cobsDecode(hex(encoded))).toEqual({ ok: true, data: hex(decoded) });
  });
  it.each(v.fail)('rejects $name', ({ encoded, at }) => {
    const r = cobsDecode(hex(encoded));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toBe(`cobs block at byte ${at} overruns the frame`);
  });
});

interface FrameVector {
  name: string;
  maxFrame?: number;
  length: number;
  frame: { type: MessageTypeName; body: unknown };
  wire: string;
}

describe('frames.json [FP-3.1]', () => {
  const { vectors } = load<{ vectors: FrameVector[] }>('frames.json');
  it.each(vectors)('$name', ({ frame, wire, maxFrame, length }) => {
    const r = tryEncodeFrame(frame, maxFrame ?? 254);
    expect(r.ok && toHex(r.wire)).toBe(wire);
    expect(r.ok && r.bytes.length).toBe(length);
    const dec = new FrameDecoder({ maxFrame: maxFrame ?? 254 });
    const events = [...dec.push(hex(wire)), ...dec.end()];
    expect(events).toHaveLength(1);
    expect(JSON.parse(eventJson(events[0]!))).toEqual({ offset: 0, ...frame });
    // The payload bytes are what an independent CBOR decoder reads, too.
    if (r.ok) expect(() => cbor2Decode(r.bytes.subarray(9, r.bytes.length - 4))).not.toThrow();
  });
});

describe('payloads.json [FP-4], [FP-5]', () => {
  const v = load<{
    valid: Array<{ name: string; type: MessageTypeName; body: unknown; hex: string }>;
    decodeOnly: Array<{ name: string; type: MessageTypeName; body: unknown; hex: string }>;
    fail: Array<{
      name: string;
      type: MessageTypeName;
      hex: string;
      error: string;
      reason: string;
    }>;
  }>('payloads.json');
  const decode = (type: MessageTypeName, h: string) => {
    const c = cborDecode(hex(h));
    if (!c.ok) return { error: c.code, reason: c.reason };
    const m = decodeBody(type, c.value);
    return m.ok ? { body: m.message.body } : { error: 'PAYLOAD_INVALID', reason: m.reason };
  };
  it.each(v.valid)('$name', ({ type, body, hex: h }) => {
    const r = encodeBody(type, body);
    expect(r.ok && toHex(r.payload)).toBe(h);
    expect(decode(type, h)).toEqual({ body });
  });
  it.each(v.decodeOnly)('ignores unknown keys: $name', ({ type, body, hex: h }) => {
    expect(decode(type, h)).toEqual({ body });
  });
  it.each(v.fail)('rejects $name', ({ type, hex: h, error, reason }) => {
    expect(decode(type, h)).toEqual({ error, reason });
  });
});

describe('streams.json [FP-2], [FP-3.10], [FP-6.1]', () => {
  const { vectors } = load<{
    vectors: Array<{
      name: string;
      hex: string;
      maxFrame?: number;
      output: unknown[];
      stats: unknown;
    }>;
  }>('streams.json');
  it.each(vectors)('$name', ({ hex: h, maxFrame, output, stats }) => {
    const input = hex(h);
    for (const chunk of [input.length || 1, 1, 2, 7, 255]) {
      const dec = new FrameDecoder({ maxFrame: maxFrame ?? 254 });
      const lines: string[] = [];
      for (let i = 0; i < input.length; i += chunk) {
        for (const ev of dec.push(input.subarray(i, i + chunk))) lines.push(eventJson(ev));
      }
      for (const ev of dec.end()) lines.push(eventJson(ev));
      expect(lines.map((l) => JSON.parse(l))).toEqual(output);
      expect(JSON.parse(statsJson(dec.counters))).toEqual({ stats });
      const c = dec.counters;
      expect(c.bytes).toBe(input.length);
      expect(Object.values(c.errors).reduce((a, b) => a + b, 0)).toBe(c.rejected);
      expect(c.frames + c.rejected).toBe(output.length);
    }
  });
});

describe('encode-fail.json [FP-8.3]', () => {
  const { vectors } = load<{ vectors: Array<{ name: string; line: string }> }>('encode-fail.json');
  it.each(vectors)('$name', ({ line }) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return;
    }
    const v = value as Record<string, unknown>;
    if (v.raw !== undefined) {
      expect(fromHex(String(v.raw))).toBeUndefined();
      return;
    }
    const r = tryEncodeFrame(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe('FRAME_INVALID');
  });
});
