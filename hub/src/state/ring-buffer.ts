import { doubles } from './doubles.ts';

/**
 * A count-based sliding window: the last `capacity` numbers, oldest dropped first. The
 * detectors that need a sliding window (robust z-score) keep one of these per series, so their
 * state is bounded by construction.
 */
export class RingBuffer {
  private readonly data: number[];
  private start = 0;
  private length = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ring buffer capacity must be a positive integer, got ${capacity}`);
    }
    this.data = doubles(capacity);
  }

  get size(): number {
    return this.length;
  }

  /** Appends; returns the value dropped to make room (the oldest), if the buffer was full. */
  push(value: number): number | undefined {
    if (this.length < this.capacity) {
      this.data[(this.start + this.length) % this.capacity] = value;
      this.length += 1;
      return undefined;
    }
    const dropped = this.data[this.start];
    this.data[this.start] = value;
    this.start = (this.start + 1) % this.capacity;
    return dropped;
  }

  /** The i-th value, oldest first (0 <= i < size). */
  at(i: number): number {
    return this.data[(this.start + i) % this.capacity] as number;
  }

  /** The values, oldest first (a copy). */
  values(): number[] {
    const out = new Array<number>(this.length);
    for (let i = 0; i < this.length; i += 1) {
      out[i] = this.data[(this.start + i) % this.capacity] as number;
    }
    return out;
  }

  /** Replaces the contents; keeps only the newest `capacity` values. */
  load(values: readonly number[]): void {
    this.start = 0;
    this.length = 0;
    for (const v of values.slice(-this.capacity)) this.push(v);
  }
}
