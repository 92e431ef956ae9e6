import type { AckBody } from '@iot-stream/firmware-protocol';

const MOD = 0x10000;
const WINDOW = 32;
const ahead = (a: number, b: number) => (a - b + MOD) % MOD; // how far a is after b

/**
 * What the gateway may acknowledge in one device session [FP-5.5]: `cumulative` only ever
 * advances over frames this gateway handled (committed, for data), starting from a baseline
 * (the last cumulative acknowledged, persisted, so a restarted gateway never claims frames it
 * did not handle). Handled frames past a gap are reported in the selective bits; a gap is
 * given up only on request (device overflow, a device that does not retransmit, or a gap left
 * unfilled too long), and the frames given up are counted.
 */
export class AckTracker {
  private done = new Set<number>();
  private gapSince: number | undefined;

  constructor(
    readonly session: number,
    private cumulative: number,
    private readonly now: () => number,
  ) {}

  get current(): number {
    return this.cumulative;
  }

  /** Marks a frame handled; returns false when it is at or before the cumulative point. */
  handled(seq: number): boolean {
    const d = ahead(seq, this.cumulative);
    if (d === 0 || d >= MOD / 2) return false;
    this.done.add(seq);
    this.advance();
    return true;
  }

  /** How long the oldest gap has been open (0 when none). */
  gapAgeMs(): number {
    return this.gapSince === undefined ? 0 : this.now() - this.gapSince;
  }

  /** Moves the cumulative point over the oldest gap; returns how many frames were given up. */
  giveUpGap(): number {
    let lowest: number | undefined;
    for (const s of this.done)
      if (lowest === undefined || ahead(s, this.cumulative) < ahead(lowest, this.cumulative))
        lowest = s;
    if (lowest === undefined) return 0;
    const lost = ahead(lowest, this.cumulative) - 1;
    this.cumulative = (lowest - 1 + MOD) % MOD;
    this.advance();
    return lost;
  }

  body(): AckBody {
    let selective = 0;
    for (let i = 0; i < WINDOW; i += 1)
      if (this.done.has((this.cumulative + 1 + i) % MOD)) selective |= 1 << i;
    return selective === 0
      ? { session: this.session, cumulative: this.cumulative }
      : { session: this.session, cumulative: this.cumulative, selective: selective >>> 0 };
  }

  private advance(): void {
    const before = this.cumulative;
    let next = (this.cumulative + 1) % MOD;
    while (this.done.has(next)) {
      this.done.delete(next);
      this.cumulative = next;
      next = (next + 1) % MOD;
    }
    if (this.done.size === 0) this.gapSince = undefined;
    else if (this.cumulative !== before || this.gapSince === undefined) this.gapSince = this.now();
  }
}
