import type { WindowState } from './window-state.ts';

/** Where a final window's numbers sit in its run of STRIDE doubles. */
const AT = {
  windowMs: 0,
  start: 1,
  count: 2,
  mean: 3,
  m2: 4,
  min: 5,
  max: 6,
  last: 7,
  lastTime: 8,
  lastTie: 9,
  revision: 10,
} as const;
const STRIDE = 11;

/**
 * A device's final windows, kept until the allowed lateness passes them so that a late reading
 * can still correct them: eleven doubles and two string references a window, in one growing
 * Float64Array, instead of an object with its numbers boxed, a key string and a map entry
 * (about 400 bytes; at one reading every 10 s and the default 10 minutes of lateness, 11 of
 * the 13 windows a series keeps are final). In the order they were added; a window is looked
 * up by scanning (a device holds tens of them, and only late readings look).
 */
export class FinalWindows {
  private data = new Float64Array(0);
  private readonly metrics: string[] = [];
  private readonly units: (string | undefined)[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Keeps a final window (its state copied: the object may be dropped). */
  add(w: WindowState): void {
    if ((this.count + 1) * STRIDE > this.data.length) {
      const grown = new Float64Array(Math.max(4, Math.ceil(this.count * 1.5) + 1) * STRIDE);
      grown.set(this.data);
      this.data = grown;
    }
    this.count += 1;
    this.set(this.count - 1, w);
  }

  /** Replaces the window at i (after a late reading corrected it). */
  set(i: number, w: WindowState): void {
    const d = this.data;
    const at = i * STRIDE;
    d[at + AT.windowMs] = w.windowMs;
    d[at + AT.start] = w.start;
    d[at + AT.count] = w.count;
    d[at + AT.mean] = w.mean;
    d[at + AT.m2] = w.m2;
    d[at + AT.min] = w.min;
    d[at + AT.max] = w.max;
    d[at + AT.last] = w.last;
    d[at + AT.lastTime] = w.lastTime;
    d[at + AT.lastTie] = w.lastTie;
    d[at + AT.revision] = w.revision;
    this.metrics[i] = w.metric;
    this.units[i] = w.unit;
  }

  /** The index of the window of `metric`, `windowMs` and `start`, or -1. */
  find(metric: string, windowMs: number, start: number): number {
    const d = this.data;
    for (let i = 0; i < this.count; i += 1) {
      const at = i * STRIDE;
      if (
        d[at + AT.start] === start &&
        d[at + AT.windowMs] === windowMs &&
        this.metrics[i] === metric
      )
        return i;
    }
    return -1;
  }

  /** The window at i, as a new object (final: true). */
  get(i: number): WindowState {
    const d = this.data;
    const at = i * STRIDE;
    const w: WindowState = {
      metric: this.metrics[i] as string,
      windowMs: d[at + AT.windowMs] as number,
      start: d[at + AT.start] as number,
      count: d[at + AT.count] as number,
      mean: d[at + AT.mean] as number,
      m2: d[at + AT.m2] as number,
      min: d[at + AT.min] as number,
      max: d[at + AT.max] as number,
      last: d[at + AT.last] as number,
      lastTime: d[at + AT.lastTime] as number,
      lastTie: d[at + AT.lastTie] as number,
      final: true,
      revision: d[at + AT.revision] as number,
    };
    const unit = this.units[i];
    if (unit !== undefined) w.unit = unit;
    return w;
  }

  /** The exclusive end of the window at i. */
  end(i: number): number {
    const at = i * STRIDE;
    return (this.data[at + AT.start] as number) + (this.data[at + AT.windowMs] as number);
  }

  /** Forgets the window at i; the later ones move up (the order is kept). */
  remove(i: number): void {
    this.data.copyWithin(i * STRIDE, (i + 1) * STRIDE, this.count * STRIDE);
    this.metrics.splice(i, 1);
    this.units.splice(i, 1);
    this.count -= 1;
  }
}
