import { setImmediate as yieldToIo } from 'node:timers/promises';

/**
 * Simulated time. Signals and schedules run on it; transports keep their own wall-clock timers
 * (acknowledgement timeouts are about the link, not the simulation).
 */
export interface SimClock {
  /** Simulated time at the start of the run (epoch ms). */
  readonly start: number;
  now(): number;
  /** Resolves when simulated time reaches t (at once if it has), or when the signal aborts. */
  sleepUntil(t: number, signal?: AbortSignal): Promise<void>;
}

/** Simulated time running `speed` times as fast as the wall clock (1: real time). */
export function scaledClock(start: number, speed = 1, wallNow: () => number = Date.now): SimClock {
  const wall0 = wallNow();
  const now = () => start + (wallNow() - wall0) * speed;
  return {
    start,
    now,
    async sleepUntil(t, signal) {
      const ms = (t - now()) / speed;
      if (ms <= 0 || signal?.aborted) return void (await yieldToIo());
      await new Promise<void>((resolve) => {
        const onAbort = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

/** As fast as possible: simulated time jumps to each next event; only the transport paces it. */
export function fastClock(start: number): SimClock {
  let current = start;
  return {
    start,
    now: () => current,
    async sleepUntil(t) {
      if (t > current) current = t;
      await yieldToIo();
    },
  };
}
