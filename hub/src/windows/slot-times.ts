// The record times RecentIds (recent-ids.ts) keeps beside its ids, per slot of its ring.

/** A held id's time: whole seconds after the first time given, and the first one (ms). */
export interface IdTimes {
  from: number;
  seconds: number[];
}

/** A slot's time when none was given (never forgotten by time); also the latest one kept. */
export const UNKNOWN = 2 ** 31 - 1;

/**
 * Per slot, its record's event time in whole seconds after the first time given, rounded up
 * (later, never earlier: a slot is forgotten only once its record's time is surely behind a
 * horizon), clamped to 32 bits the same way; empty until a slot gets a time.
 */
export class SlotTimes {
  private seconds = new Int32Array(0);
  /** The first time given (ms); set from a snapshot even when no slot holds a time. */
  base: number | undefined;

  /** Sets a slot's time (the ring has `slots` slots). */
  set(slot: number, time: number | undefined, slots: number): void {
    if (time !== undefined && Number.isFinite(time) && this.seconds.length === 0) {
      this.seconds = new Int32Array(slots).fill(UNKNOWN);
      this.base ??= time;
    }
    if (this.seconds.length > 0) this.seconds[slot] = this.secondsOf(time);
  }

  /** The slot's kept time in seconds after `base`, or UNKNOWN. */
  of(slot: number): number {
    return this.seconds.length === 0 ? UNKNOWN : (this.seconds[slot] as number);
  }

  /** Whether the slot's time is surely before `horizon` (ms). */
  before(slot: number, horizon: number): boolean {
    const seconds = this.of(slot);
    return seconds !== UNKNOWN && (this.base as number) + seconds * 1000 < horizon;
  }

  /** Whether a slot has been given a time (the ring's growth then carries them over). */
  get inUse(): boolean {
    return this.seconds.length > 0;
  }

  /**
   * The ring grown into `seconds` (its new size; a view of the ring's own buffer:
   * ring-arrays.ts), its i-th oldest slot moved to i (`slotAt(i)`). Only while inUse.
   */
  regrow(count: number, slotAt: (i: number) => number, seconds: Int32Array<ArrayBuffer>): void {
    seconds.fill(UNKNOWN);
    for (let i = 0; i < count; i += 1) seconds[i] = this.seconds[slotAt(i)] as number;
    this.seconds = seconds;
  }

  private secondsOf(time: number | undefined): number {
    if (time === undefined || Number.isNaN(time)) return UNKNOWN;
    const seconds = Math.ceil((time - (this.base as number)) / 1000);
    return Math.max(-UNKNOWN, Math.min(UNKNOWN, seconds));
  }
}
