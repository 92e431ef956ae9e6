/**
 * One tumbling window of one device and metric: count, min, max, mean and M2 (Welford), and
 * the last value by event time. Order-independent apart from floating-point rounding of mean
 * and M2, so a late reading corrects the window exactly as if it had come in order.
 */

/** The result of a window, written to InfluxDB with `start` as the point time. */
export interface Aggregate {
  deviceId: string;
  metric: string;
  /** Unit of the window's latest reading (by event time), when the device sends one. */
  unit?: string;
  windowMs: number;
  /** Aligned start, epoch ms (a multiple of windowMs since 1970-01-01T00:00Z). */
  start: number;
  /** Exclusive end: start + windowMs. */
  end: number;
  count: number;
  min: number;
  max: number;
  mean: number;
  /** Sample standard deviation (n - 1, like InfluxQL's STDDEV()); 0 when count is 1. */
  stddev: number;
  /** Value of the reading with the greatest event time (ties: the greater gatewaySeq). */
  last: number;
  lastTime: number;
  /** true once the watermark passed `end`; false for a still-open window (`openAggregates`). */
  final: boolean;
  /** 0 for the first final version, +1 for each correction by a late reading. */
  revision: number;
}

/** The mutable state of one window, as kept in memory and in snapshots. */
export interface WindowState {
  metric: string;
  unit?: string;
  windowMs: number;
  start: number;
  count: number;
  mean: number;
  m2: number;
  min: number;
  max: number;
  last: number;
  lastTime: number;
  lastTie: number;
  /** Emitted as final at least once. */
  final: boolean;
  revision: number;
}

/** The key of an open window in a device's map: metric, size and start. */
export function windowKey(metric: string, windowMs: number, start: number): string {
  return `${metric}|${windowMs}|${start}`;
}

export function alignStart(time: number, windowMs: number): number {
  return Math.floor(time / windowMs) * windowMs;
}

export function newWindow(metric: string, windowMs: number, start: number): WindowState {
  return {
    metric,
    windowMs,
    start,
    count: 0,
    mean: 0,
    m2: 0,
    min: 0,
    max: 0,
    last: 0,
    lastTime: Number.NEGATIVE_INFINITY,
    lastTie: 0,
    final: false,
    revision: 0,
  };
}

/** Adds one value (Welford). `tie` breaks equal event times for `last` (the gatewaySeq). */
export function addValue(
  w: WindowState,
  reading: number,
  unit: string | undefined,
  time: number,
  tie: number,
): void {
  const value = reading + 0; // -0 as 0, as a JSON snapshot would store it
  w.count += 1;
  const delta = value - w.mean;
  const mean = Number.isFinite(delta)
    ? w.mean + delta / w.count
    : w.mean + (value / w.count - w.mean / w.count); // overflow-safe for |value| near MAX_VALUE
  // Both factors have the same sign, so the product is >= 0; clamp keeps the state finite.
  w.m2 = Math.min(w.m2 + (value - w.mean) * (value - mean), Number.MAX_VALUE);
  w.mean = mean;
  w.min = w.count === 1 ? value : Math.min(w.min, value);
  w.max = w.count === 1 ? value : Math.max(w.max, value);
  if (time > w.lastTime || (time === w.lastTime && tie > w.lastTie)) {
    w.last = value;
    w.lastTime = time;
    w.lastTie = tie;
    if (unit === undefined) delete w.unit;
    else w.unit = unit;
  }
}

export function toAggregate(deviceId: string, w: WindowState, final: boolean): Aggregate {
  const a: Aggregate = {
    deviceId,
    metric: w.metric,
    windowMs: w.windowMs,
    start: w.start,
    end: w.start + w.windowMs,
    count: w.count,
    min: w.min,
    max: w.max,
    mean: w.mean,
    stddev: w.count > 1 ? Math.sqrt(w.m2 / (w.count - 1)) : 0,
    last: w.last,
    lastTime: w.lastTime,
    final,
    revision: w.revision,
  };
  if (w.unit !== undefined) a.unit = w.unit;
  return a;
}

/** A stable identity for the InfluxDB point of an aggregate: device, metric, size, start. */
export function aggregateKey(a: Pick<Aggregate, 'deviceId' | 'metric' | 'windowMs' | 'start'>) {
  return `${a.deviceId}/${a.metric}/${a.windowMs}/${a.start}`;
}
