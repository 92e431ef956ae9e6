/** Float64 numbers as base64 (exact, about 11 characters each): compact detector snapshots. */
export function toBase64(values: ArrayLike<number>): string {
  const a = Float64Array.from(values);
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

export function fromBase64(text: string): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 8 !== 0) throw new RangeError('not a list of float64 numbers');
  const out = new Float64Array(bytes.length / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/**
 * The sum of the k smallest of values[0, n) (all of them when n <= k), by quickselect on a
 * copy in `scratch` (length >= n): O(n) on average, values untouched.
 */
export function sumOfSmallest(
  values: Float64Array,
  n: number,
  k: number,
  scratch: Float64Array,
): number {
  const a = scratch;
  a.set(values.subarray(0, n));
  const want = Math.min(k, n);
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i += 1;
      while ((a[j] as number) > pivot) j -= 1;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i += 1;
        j -= 1;
      }
    }
    if (want - 1 <= j) hi = j;
    else if (want - 1 >= i) lo = i;
    else break;
  }
  let sum = 0;
  for (let i = 0; i < want; i += 1) sum += a[i] as number;
  return sum;
}

/**
 * The last `capacity` numbers in order, each stored once in a ring (they were stored twice
 * so a hot loop could index one contiguous run: 8 kB more a `novelty` series): `slot(i)` is
 * where the i-th newest lies, and a loop walks back from `newestSlot` wrapping at 0.
 */
export class Window {
  readonly buf: Float64Array;
  private next = 0;
  private length = 0;

  constructor(readonly capacity: number) {
    this.buf = new Float64Array(capacity);
  }

  get size(): number {
    return this.length;
  }

  /** Index in `buf` of the newest value. */
  get newestSlot(): number {
    return (this.next - 1 + this.capacity) % this.capacity;
  }

  push(x: number): void {
    this.buf[this.next] = x;
    this.next = (this.next + 1) % this.capacity;
    if (this.length < this.capacity) this.length += 1;
  }

  /** The i-th value, oldest first. */
  at(i: number): number {
    return this.buf[(this.next - this.length + i + 2 * this.capacity) % this.capacity] as number;
  }

  toArray(): Float64Array {
    const out = new Float64Array(this.length);
    for (let i = 0; i < this.length; i += 1) out[i] = this.at(i);
    return out;
  }

  load(values: ArrayLike<number>): void {
    this.next = 0;
    this.length = 0;
    const from = Math.max(0, values.length - this.capacity);
    for (let i = from; i < values.length; i += 1) this.push(values[i] as number);
  }
}

/**
 * The last `capacity` numbers, each stored once: for sets whose order matters only in their
 * snapshot (half of Window's memory). The values held are buf[0 .. size - 1], in no order.
 */
export class Ring {
  readonly buf: Float64Array;
  private next = 0;
  private length = 0;

  constructor(readonly capacity: number) {
    this.buf = new Float64Array(capacity);
  }

  get size(): number {
    return this.length;
  }

  push(x: number): void {
    this.buf[this.next] = x;
    this.next = (this.next + 1) % this.capacity;
    if (this.length < this.capacity) this.length += 1;
  }

  /** Oldest first. */
  toArray(): Float64Array {
    if (this.length < this.capacity) return this.buf.slice(0, this.length);
    const out = new Float64Array(this.capacity);
    out.set(this.buf.subarray(this.next));
    out.set(this.buf.subarray(0, this.next), this.capacity - this.next);
    return out;
  }

  load(values: ArrayLike<number>): void {
    this.next = 0;
    this.length = 0;
    const from = Math.max(0, values.length - this.capacity);
    for (let i = from; i < values.length; i += 1) this.push(values[i] as number);
  }
}
