import type { Aggregate } from './window-state.ts';

export interface TumblingWindowsOptions {
  /** Window sizes in ms, e.g. [60_000, 3_600_000]; windows are aligned to the epoch (UTC). */
  sizesMs: readonly number[];
  /** How far behind the newest reading of a device a reading may arrive and still be on time. */
  maxOutOfOrdernessMs: number;
  /** How far behind the watermark a late reading still corrects its (already final) windows. */
  allowedLatenessMs: number;
  /** Devices tracked at once; the least recently active one is evicted (default 10,000). */
  maxDevices?: number;
  /** Open windows per device; the one ending first is finalised and evicted (default 1,024). */
  maxWindowsPerDevice?: number;
  /** Records per device remembered for duplicate detection (default 256). */
  dedupRecordsPerDevice?: number;
}

/** Why a reading was not aggregated; the integration sends it to the dead-letter topic. */
export interface TooLate {
  code: 'TOO_LATE';
  reason: string;
  watermark: number;
  lateByMs: number;
}

export interface AddResult {
  /** Same (gatewayId, gatewaySeq) or same device (session, seq) seen recently: ignored. */
  duplicate: boolean;
  /** Older than the device's watermark (beyond the out-of-orderness bound). */
  late: boolean;
  /** Set when older than watermark - allowedLateness: counted, not aggregated. */
  tooLate?: TooLate;
  /**
   * Windows to (re)write, all final: corrections by this (late) reading with the same key and a
   * higher revision, windows this reading's watermark advance closed, and windows flushed by
   * an eviction. Deterministic order.
   */
  aggregates: Aggregate[];
}

export interface WindowCounters {
  records: number;
  duplicates: number;
  late: number;
  tooLate: number;
  corrections: number;
  finalised: number;
  evictedDevices: number;
  evictedWindows: number;
  /** Readings skipped for a window size because a window they belong to was evicted. */
  sealedSkips: number;
}

export function emptyWindowCounters(): WindowCounters {
  return {
    records: 0,
    duplicates: 0,
    late: 0,
    tooLate: 0,
    corrections: 0,
    finalised: 0,
    evictedDevices: 0,
    evictedWindows: 0,
    sealedSkips: 0,
  };
}

/** Validated options with their defaults. */
export function resolveOptions(o: TumblingWindowsOptions) {
  const sizes = [...new Set(o.sizesMs)].sort((a, b) => a - b);
  if (sizes.length === 0 || sizes.some((s) => !Number.isInteger(s) || s <= 0)) {
    throw new RangeError(`window sizes must be positive integers (ms), got ${o.sizesMs}`);
  }
  return {
    sizes,
    ooo: nonNegative(o.maxOutOfOrdernessMs, 'maxOutOfOrdernessMs'),
    lateness: nonNegative(o.allowedLatenessMs, 'allowedLatenessMs'),
    maxDevices: Math.max(1, o.maxDevices ?? 10_000),
    maxWindows: Math.max(1, o.maxWindowsPerDevice ?? 1_024),
    dedup: Math.max(1, o.dedupRecordsPerDevice ?? 256),
  };
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative number of ms, got ${value}`);
  }
  return value;
}

/** Output order of windows closed together: by start, then size, then metric. */
export function byWindow(a: Aggregate, b: Aggregate): number {
  return (
    a.start - b.start ||
    a.windowMs - b.windowMs ||
    (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0)
  );
}
