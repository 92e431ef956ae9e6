// The deterministic CBOR subset used for payloads [FP-4.1]..[FP-4.9] (RFC 8949 §4.2.1):
// types and the decoder. The encoder is in cbor-encode.ts.
// Items: unsigned and negative integers in the safe range, byte and text strings, arrays, and
// maps with unsigned-integer or text keys, false, true, null. Definite lengths only.

export type CborValue =
  | number
  | string
  | boolean
  | null
  | Uint8Array
  | CborValue[]
  | Map<number | string, CborValue>;

export type CborErrorCode = 'CBOR_INVALID' | 'CBOR_NON_CANONICAL' | 'CBOR_UNSUPPORTED';

export type CborDecodeResult =
  | { ok: true; value: CborValue }
  | { ok: false; code: CborErrorCode; reason: string };

/** Containers may nest this deep; the payload map is level 1 [FP-4.7]. */
export const MAX_DEPTH = 8;
const SAFE_MAX = Number.MAX_SAFE_INTEGER;
export const TWO32 = 0x1_0000_0000;

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class CborFail {
  constructor(
    readonly code: CborErrorCode,
    readonly at: number,
    readonly what: string,
  ) {}
}

const END = 'unexpected end of input';

class Reader {
  pos: number;
  constructor(
    readonly b: Uint8Array,
    readonly start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  fail(code: CborErrorCode, at: number, what: string): never {
    throw new CborFail(code, at - this.start, what);
  }

  /** One item; the order of checks is normative so that every decoder reports the same error. */
  item(depth: number): CborValue {
    const at = this.pos;
    const b = this.b;
    if (at >= this.end) this.fail('CBOR_INVALID', at, END);
    const ib = b[at]!;
    const major = ib >> 5;
    const ai = ib & 31;
    if (ai >= 28 && ai <= 30) this.fail('CBOR_INVALID', at, 'reserved additional information');
    if (ai === 31) {
      if (major === 7) this.fail('CBOR_INVALID', at, 'unexpected break');
      if (major === 0 || major === 1 || major === 6) {
        this.fail('CBOR_INVALID', at, 'reserved additional information');
      }
      this.fail('CBOR_UNSUPPORTED', at, 'indefinite length');
    }
    if (major === 7) {
      this.pos = at + 1;
      if (ai === 20) return false;
      if (ai === 21) return true;
      if (ai === 22) return null;
      if (ai >= 25) this.fail('CBOR_UNSUPPORTED', at, 'floating-point number');
      this.fail('CBOR_UNSUPPORTED', at, 'simple value');
    }
    let arg = ai;
    let p = at + 1;
    if (ai >= 24) {
      const n = 1 << (ai - 24);
      if (p + n > this.end) this.fail('CBOR_INVALID', at, END);
      if (n === 1) arg = b[p]!;
      else if (n === 2) arg = (b[p]! << 8) | b[p + 1]!;
      else if (n === 4)
        arg = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
      else {
        const hi = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
        const lo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
        // Above 2^53 the value is inexact but only compared with bounds it exceeds anyway.
        arg = hi * TWO32 + lo;
        if (hi === 0) this.fail('CBOR_NON_CANONICAL', at, 'non-shortest encoding');
      }
      if ((n === 1 && arg < 24) || (n === 2 && arg < 0x100) || (n === 4 && arg < 0x10000)) {
        this.fail('CBOR_NON_CANONICAL', at, 'non-shortest encoding');
      }
      p += n;
    }
    this.pos = p;
    switch (major) {
      case 0:
        if (arg > SAFE_MAX) this.fail('CBOR_UNSUPPORTED', at, 'integer outside the safe range');
        return arg;
      case 1:
        if (arg > SAFE_MAX - 1) this.fail('CBOR_UNSUPPORTED', at, 'integer outside the safe range');
        return -1 - arg;
      case 2:
      case 3: {
        if (arg > this.end - p) this.fail('CBOR_INVALID', at, END);
        this.pos = p + arg;
        if (major === 2) return b.slice(p, p + arg);
        const s = decodeText(b, p, p + arg);
        if (s === undefined) this.fail('CBOR_INVALID', at, 'invalid utf-8 in text string');
        return s;
      }
      case 4: {
        if (depth + 1 > MAX_DEPTH)
          this.fail('CBOR_UNSUPPORTED', at, `nesting deeper than ${MAX_DEPTH}`);
        if (arg > this.end - p) this.fail('CBOR_INVALID', at, END);
        const out: CborValue[] = new Array(arg);
        for (let i = 0; i < arg; i++) out[i] = this.item(depth + 1);
        return out;
      }
      case 5:
        return this.map(at, arg, depth);
      default:
        return this.fail('CBOR_UNSUPPORTED', at, 'tag');
    }
  }

  private map(at: number, count: number, depth: number): CborValue {
    if (depth + 1 > MAX_DEPTH)
      this.fail('CBOR_UNSUPPORTED', at, `nesting deeper than ${MAX_DEPTH}`);
    if (count * 2 > this.end - this.pos) this.fail('CBOR_INVALID', at, END);
    const out = new Map<number | string, CborValue>();
    let prevStart = -1;
    let prevEnd = -1;
    for (let i = 0; i < count; i++) {
      const keyAt = this.pos;
      const key = this.item(depth + 1);
      if (typeof key !== 'string' && !(typeof key === 'number' && key >= 0)) {
        this.fail('CBOR_UNSUPPORTED', keyAt, 'map key must be an unsigned integer or text');
      }
      if (prevStart >= 0) {
        const c = compareRange(this.b, prevStart, prevEnd, keyAt, this.pos);
        if (c === 0) this.fail('CBOR_NON_CANONICAL', keyAt, 'duplicate map key');
        if (c > 0) this.fail('CBOR_NON_CANONICAL', keyAt, 'map keys out of order');
      }
      prevStart = keyAt;
      prevEnd = this.pos;
      out.set(key as number | string, this.item(depth + 1));
    }
    return out;
  }
}

function compareRange(b: Uint8Array, a0: number, a1: number, b0: number, b1: number): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let i = 0; i < n; i++) if (b[a0 + i] !== b[b0 + i]) return b[a0 + i]! - b[b0 + i]!;
  return a1 - a0 - (b1 - b0);
}

function decodeText(b: Uint8Array, start: number, end: number): string | undefined {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (b[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii && end - start < 64) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
    return s;
  }
  try {
    return utf8Fatal.decode(b.subarray(start, end));
  } catch {
    return undefined;
  }
}

/** Decodes exactly one item spanning bytes[start..end); never throws [FP-4.8]. */
export function cborDecode(bytes: Uint8Array, start = 0, end = bytes.length): CborDecodeResult {
  const r = new Reader(bytes, start, end);
  try {
    const value = r.item(0);
    if (r.pos !== end) r.fail('CBOR_INVALID', r.pos, 'trailing bytes after the payload');
    return { ok: true, value };
  } catch (e) {
    if (e instanceof CborFail) {
      return { ok: false, code: e.code, reason: `cbor at byte ${e.at}: ${e.what}` };
    }
    throw e;
  }
}
