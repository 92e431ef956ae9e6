// CRC, COBS and CBOR layers against independent oracles: zlib.crc32, a second COBS written
// from the paper's description, and cbor2's deterministic encoder.

import { crc32 as zlibCrc32 } from 'node:zlib';
import { encode as cbor2Encode, cdeEncodeOptions } from 'cbor2';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CborValue, cborDecode } from '../src/cbor.ts';
import { cborEncode } from '../src/cbor-encode.ts';
import { cobsDecode, cobsEncode } from '../src/cobs.ts';
import { crc32, crc32Update } from '../src/crc.ts';

describe('crc32 [FP-3.8]', () => {
  it('has the check value 0xCBF43926', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
  it('matches zlib.crc32 on any input and any split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (b, cut) => {
        const k = b.length ? cut % b.length : 0;
        expect(crc32(b)).toBe(zlibCrc32(b));
        expect(crc32Update(crc32(b.subarray(0, k)), b.subarray(k))).toBe(zlibCrc32(b));
      }),
    );
  });
});

/** COBS as Cheshire and Baker describe it: split at zeros, then into runs of at most 254. */
function referenceCobs(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  const parts: number[][] = [[]];
  for (const b of data) {
    if (b === 0) parts.push([]);
    else parts[parts.length - 1]!.push(b);
  }
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    let rest = part;
    while (rest.length >= 254) {
      out.push(0xff, ...rest.slice(0, 254));
      rest = rest.slice(254);
      if (rest.length === 0 && last) return; // canonical: no 0x01 after a final full block
    }
    out.push(rest.length + 1, ...rest);
  });
  return Uint8Array.from(out);
}

describe('cobs [FP-2.1]', { timeout: 30_000 }, () => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 800 }),
    fc.array(fc.constantFrom(0, 1, 0xff), { maxLength: 800 }).map((a) => Uint8Array.from(a)),
    fc
      .integer({ min: 250, max: 520 })
      .map((n) => Uint8Array.from({ length: n }, (_, i) => (i % 255) + 1)),
  );
  it('matches the reference and round-trips', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        const enc = cobsEncode(b);
        expect(enc).toEqual(referenceCobs(b));
        expect(enc.includes(0)).toBe(false);
        expect(enc.length).toBeLessThanOrEqual(b.length + Math.floor(b.length / 254) + 1);
        expect(cobsDecode(enc)).toEqual({ ok: true, data: b });
      }),
    );
  });
  it('has exactly one byte of overhead up to 254 bytes [FP-2.6]', () => {
    for (const n of [0, 1, 253, 254])
      expect(cobsEncode(new Uint8Array(n).fill(7)).length).toBe(n + 1);
    expect(cobsEncode(new Uint8Array(255).fill(7)).length).toBe(257);
  });
});

const key = fc.oneof(fc.nat({ max: 30 }), fc.maxSafeNat(), fc.string({ maxLength: 5 }));
const value: fc.Arbitrary<CborValue> = fc.letrec<{ v: CborValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.maxSafeInteger(),
    fc.integer({ min: -300, max: 70000 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.uint8Array({ maxLength: 30 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.array(fc.tuple(key, tie('v')), { maxLength: 4 }).map((e) => new Map(e)),
  ),
})).v;

describe('cbor subset [FP-4]', { timeout: 30_000 }, () => {
  it('encodes like cbor2 in deterministic mode and decodes back', () => {
    fc.assert(
      fc.property(value, (v) => {
        let bytes: Uint8Array;
        try {
          bytes = cborEncode(v);
        } catch {
          return; // nested deeper than 8
        }
        expect(Buffer.from(bytes).toString('hex')).toBe(
          Buffer.from(cbor2Encode(v, cdeEncodeOptions)).toString('hex'),
        );
        const back = cborDecode(bytes);
        expect(back.ok).toBe(true);
        if (back.ok) expect(cborEncode(back.value)).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });
  it('never throws on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const r = cborDecode(b);
        if (r.ok) expect(cborEncode(r.value)).toEqual(b); // accepted means canonical
      }),
      { numRuns: 3000 },
    );
  });
  it('refuses values outside the subset when encoding', () => {
    expect(() => cborEncode(1.5)).toThrow(/safe integer/);
    expect(() => cborEncode(2 ** 53)).toThrow(/safe integer/);
    expect(() => cborEncode('\ud800')).toThrow(/surrogate/);
    expect(() => cborEncode(new Map([[-1, 0]]))).toThrow(/map key/);
    let deep: CborValue = 1;
    for (let i = 0; i < 9; i++) deep = [deep];
    expect(() => cborEncode(deep)).toThrow(/deeper/);
  });
});
