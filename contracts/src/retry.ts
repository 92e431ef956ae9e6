/**
 * Retries with exponential backoff, one helper for every app: the gateway's uplink and serial
 * ports, the hub's start-up, sources and webhook. An error marked `retriable: false` (our
 * IotError, kafkajs's non-retriable ones) ends the retries at once; so does the signal.
 */

export interface Backoff {
  /** The first delay, ms. */
  minMs: number;
  /** The longest delay, ms. */
  maxMs: number;
  /** Random source for jitter in [0, 1): full jitter between half and all of the delay; none: no jitter. */
  random?: () => number;
}

/** The delay before retry number `attempt` (1 = the first retry): min x 2^(attempt-1), capped. */
export function backoffMs(attempt: number, b: Backoff): number {
  const ceiling = Math.min(b.maxMs, b.minMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
  return b.random ? Math.round(ceiling / 2 + (b.random() * ceiling) / 2) : ceiling;
}

export interface RetryOptions extends Backoff {
  /** Tries in all (default: until it succeeds, a non-retriable error or the signal). */
  attempts?: number;
  /** Aborting ends the waiting at once and rejects with the last error (or the abort reason). */
  signal?: AbortSignal;
  /** Told before each wait: log it (the first, and every tenth, say). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** How to wait (tests pass a fake); resolves false when the wait was cut short. */
  wait?: (ms: number, signal?: AbortSignal) => Promise<boolean>;
}

/** Whether trying again can help: false only for errors that say so (`retriable: false`). */
export function isRetriable(err: unknown): boolean {
  return (err as { retriable?: unknown } | null)?.retriable !== false;
}

/** Runs `fn` until it resolves; see RetryOptions for when it gives up. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isRetriable(err) || (o.attempts !== undefined && attempt >= o.attempts)) throw err;
      if (o.signal?.aborted) throw err;
      const delay = backoffMs(attempt, o);
      o.onRetry?.(err, attempt, delay);
      if (!(await (o.wait ?? sleep)(delay, o.signal))) throw err;
    }
  }
}

/** Resolves true after `ms`, or false as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
