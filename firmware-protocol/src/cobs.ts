// Consistent Overhead Byte Stuffing with 0x00 as the frame delimiter [FP-2.1]..[FP-2.5].

/** Largest COBS encoding of `n` bytes: one code byte per started block of 254 bytes. */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.floor(n / 254) + 1;
}

/**
 * Encodes `data` without the trailing delimiter. Canonical form [FP-2.1]: a block of 254
 * non-zero bytes that ends the input is not followed by an extra 0x01 code byte.
 */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(data.length));
  const n = cobsEncodeInto(data, 0, data.length, out, 0);
  return out.subarray(0, n);
}

/** Encodes data[start..end) into out at outStart; returns the number of bytes written. */
export function cobsEncodeInto(
  data: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  outStart: number,
): number {
  let codeAt = outStart;
  let w = outStart + 1;
  let code = 1;
  for (let i = start; i < end; i++) {
    const b = data[i]!;
    if (b !== 0) {
      out[w++] = b;
      code++;
    }
    if (b === 0 || code === 0xff) {
      out[codeAt] = code;
      code = 1;
      codeAt = w;
      // A full block at the very end gets no extra code byte [FP-2.1].
      if (b === 0 || i + 1 < end) w++;
    }
  }
  if (codeAt < w) out[codeAt] = code;
  return w - outStart;
}

export type CobsDecodeResult =
  | { ok: true; length: number }
  | { ok: false; at: number; reason: string };

/**
 * Decodes one frame (the bytes between two delimiters, none of them 0x00) into out, which
 * must hold `end - start` bytes. Accepts the non-canonical trailing 0x01 form [FP-2.5].
 */
export function cobsDecodeInto(
  data: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
): CobsDecodeResult {
  let r = start;
  let w = 0;
  while (r < end) {
    const code = data[r]!;
    const blockEnd = r + code;
    if (blockEnd > end) {
      return {
        ok: false,
        at: r - start,
        reason: `cobs block at byte ${r - start} overruns the frame`,
      };
    }
    r++;
    while (r < blockEnd) out[w++] = data[r++]!;
    if (code !== 0xff && r < end) out[w++] = 0;
  }
  return { ok: true, length: w };
}

/** Convenience form of cobsDecodeInto for tests and tools. */
export function cobsDecode(
  encoded: Uint8Array,
): { ok: true; data: Uint8Array } | { ok: false; reason: string } {
  if (encoded.includes(0)) return { ok: false, reason: 'cobs frame contains a 0x00 byte' };
  const out = new Uint8Array(encoded.length);
  const r = cobsDecodeInto(encoded, 0, encoded.length, out);
  return r.ok ? { ok: true, data: out.subarray(0, r.length) } : { ok: false, reason: r.reason };
}
