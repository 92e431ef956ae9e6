const EMPTY = Buffer.alloc(0);

/**
 * A request body written straight into bytes: no string per piece or per line, no join, no
 * second copy when the request is sent. Strings are UTF-8; the ASCII ones (nearly all: tags,
 * numbers) are copied by a plain loop, which is cheaper than a native call per short piece.
 */
export class BodyWriter {
  private buf = EMPTY;
  private len = 0;

  /** `initialBytes`: the first allocation, made at the first write (and again after take). */
  constructor(private readonly initialBytes = 64 * 1024) {}

  get length(): number {
    return this.len;
  }

  /** Appends s as UTF-8. */
  text(s: string): void {
    const n = s.length;
    this.room(n);
    const buf = this.buf;
    let at = this.len;
    for (let i = 0; i < n; i += 1) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.len = at;
        this.utf8(s.slice(i));
        return;
      }
      buf[at] = c;
      at += 1;
    }
    this.len = at;
  }

  /** Appends bytes (already encoded: a copy, not a loop). */
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Appends one ASCII character code. */
  char(code: number): void {
    this.room(1);
    this.buf[this.len] = code;
    this.len += 1;
  }

  /**
   * Appends `String(n)` (as a template literal writes it): a safe integer digit by digit,
   * without a string in between; anything else (fractions, huge values) in String's own form.
   */
  number(n: number): void {
    if (!Number.isSafeInteger(n)) {
      this.text(String(n));
      return;
    }
    this.room(17);
    if (n < 0) {
      this.buf[this.len] = 45; // '-'
      this.len += 1;
      n = -n;
    }
    if (n < 1e8) {
      this.digits(n, 1); // also -0, which String writes as "0"
      return;
    }
    // Two halves below 2^31 (n < 2^53 < 1e16): integer division stays in 32 bits.
    const high = Math.floor(n / 1e8);
    this.digits(high, 1);
    this.digits(n - high * 1e8, 8);
  }

  /** x (an integer 0 <= x < 1e8) in decimal, padded with zeros to at least `min` digits. */
  private digits(x: number, min: number): void {
    let width = min;
    for (let p = 10 ** min; p <= x; p *= 10) width += 1;
    const buf = this.buf;
    let at = this.len + width;
    this.len = at;
    for (let i = 0; i < width; i += 1) {
      const q = (x / 10) | 0;
      at -= 1;
      buf[at] = 48 + (x - q * 10);
      x = q;
    }
  }

  /** The bytes written so far (copied when the buffer is mostly empty), and a fresh start. */
  take(): Buffer {
    const out =
      this.len * 2 < this.buf.length
        ? Buffer.from(this.buf.subarray(0, this.len))
        : this.buf.subarray(0, this.len);
    this.buf = EMPTY;
    this.len = 0;
    return out;
  }

  private utf8(s: string): void {
    this.room(s.length * 3);
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  private room(bytes: number): void {
    if (this.len + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(
      Math.max(this.buf.length * 2, this.len + bytes, this.initialBytes),
    );
    this.buf.copy(grown, 0, 0, this.len);
    this.buf = grown;
  }
}
