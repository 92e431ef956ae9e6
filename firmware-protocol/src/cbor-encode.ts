// Deterministic encoding of the CBOR subset [FP-4.2]..[FP-4.5]: shortest heads, definite
// lengths, map keys sorted by their encoded bytes.

import { type CborValue, MAX_DEPTH, TWO32 } from './cbor.ts';
import { ProtocolError } from './errors.ts';

const utf8 = new TextEncoder();

class Writer {
  buf = new Uint8Array(64);
  len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  head(major: number, arg: number): void {
    this.room(9);
    const m = major << 5;
    const b = this.buf;
    if (arg < 24) b[this.len++] = m | arg;
    else if (arg < 0x100) {
      b[this.len++] = m | 24;
      b[this.len++] = arg;
    } else if (arg < 0x10000) {
      b[this.len++] = m | 25;
      b[this.len++] = arg >>> 8;
      b[this.len++] = arg & 0xff;
    } else if (arg < TWO32) {
      b[this.len++] = m | 26;
      this.u32(arg);
    } else {
      b[this.len++] = m | 27;
      this.u32(Math.floor(arg / TWO32));
      this.u32(arg >>> 0);
    }
  }

  private u32(v: number): void {
    const b = this.buf;
    b[this.len++] = v >>> 24;
    b[this.len++] = (v >>> 16) & 0xff;
    b[this.len++] = (v >>> 8) & 0xff;
    b[this.len++] = v & 0xff;
  }

  bytes(data: Uint8Array): void {
    this.room(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }
}

function invalid(reason: string): ProtocolError {
  return new ProtocolError('FRAME_INVALID', reason);
}

/** Deterministic encoding of a key, used to sort map keys [FP-4.4]. */
export function encodeKey(key: number | string): Uint8Array {
  const w = new Writer();
  writeValue(w, key, 1);
  return w.buf.slice(0, w.len);
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function writeValue(w: Writer, v: CborValue, depth: number): void {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw invalid(`cbor: ${v} is not a safe integer`);
    if (v >= 0) w.head(0, v);
    else w.head(1, -1 - v);
  } else if (typeof v === 'string') {
    if (/\p{Cs}/u.test(v)) throw invalid('cbor: text contains a lone surrogate');
    const data = utf8.encode(v);
    w.head(3, data.length);
    w.bytes(data);
  } else if (typeof v === 'boolean') w.head(7, v ? 21 : 20);
  else if (v === null) w.head(7, 22);
  else if (v instanceof Uint8Array) {
    w.head(2, v.length);
    w.bytes(v);
  } else {
    if (depth > MAX_DEPTH) throw invalid(`cbor: nesting deeper than ${MAX_DEPTH}`);
    if (Array.isArray(v)) {
      w.head(4, v.length);
      for (const item of v) writeValue(w, item, depth + 1);
    } else if (v instanceof Map) {
      const entries = [...v.entries()].map(([k, value]) => {
        if (typeof k === 'number' && !(Number.isSafeInteger(k) && k >= 0)) {
          throw invalid('cbor: map key must be an unsigned integer or text');
        }
        return { key: encodeKey(k), value };
      });
      entries.sort((a, b) => compareBytes(a.key, b.key));
      w.head(5, entries.length);
      for (const e of entries) {
        w.bytes(e.key);
        writeValue(w, e.value, depth + 1);
      }
    } else throw invalid('cbor: unsupported value');
  }
}

/** Encodes a value deterministically; throws ProtocolError(FRAME_INVALID) outside the subset. */
export function cborEncode(v: CborValue): Uint8Array {
  const w = new Writer();
  writeValue(w, v, 1);
  return w.buf.slice(0, w.len);
}
