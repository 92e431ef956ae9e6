// Time for devices without a real-time clock [FP-6.5].

import type { TimeResponseBody } from './messages.ts';

/**
 * The device side of a time exchange: given the response to a timeRequest sent at uptime t1
 * and received back at uptime t4, the offset to add to uptime to get epoch milliseconds.
 */
export function timeOffset(response: TimeResponseBody, t4: number): number {
  const { uptime: t1, received: t2, sent: t3 } = response;
  return Math.round((t2 - t1 + (t3 - t4)) / 2);
}

/**
 * The gateway side without any exchange: every frame received at epoch time `now` carrying
 * `uptime` bounds the offset from above (the frame cannot arrive before it was sent), so the
 * smallest `now - uptime` seen in a session is the best estimate. Reset it on a new session.
 */
export class UptimeClock {
  private offset: number | undefined;

  observe(uptime: number, now: number): void {
    const o = now - uptime;
    if (this.offset === undefined || o < this.offset) this.offset = o;
  }

  toEpoch(uptime: number): number | undefined {
    return this.offset === undefined ? undefined : uptime + this.offset;
  }

  reset(): void {
    this.offset = undefined;
  }
}
