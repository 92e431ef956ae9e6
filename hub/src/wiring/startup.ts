import { IotError, isRetriable, retry } from '@iot-stream/contracts';
import type { Logger } from 'pino';

// The start-up's helpers (main.ts): what it waits for, how it retries, what it closes again.

/**
 * Both results, or the first error at once (or `stop`'s reason once it aborts): that aborts the
 * other's waiting (its retries end), and whichever did start is closed again once both settled
 * (a library user sees startHub reject before that cleanup is done).
 */
export async function both<A, B>(
  a: Promise<A>,
  b: Promise<B>,
  abort: AbortController,
  closeA: (a: A) => unknown,
  closeB: (b: B) => Promise<unknown>,
  stop?: AbortSignal,
): Promise<[A, B]> {
  let onStop: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    onStop = () => reject(stop?.reason);
    if (stop?.aborted) onStop();
    else stop?.addEventListener('abort', onStop, { once: true });
  });
  stopped.catch(() => undefined); // (a stop after the start-up is not its failure)
  try {
    return await Promise.race([Promise.all([a, b]), stopped]);
  } catch (err) {
    abort.abort();
    void Promise.allSettled([a, b]).then(async ([ra, rb]) => {
      if (ra.status === 'fulfilled')
        await Promise.resolve()
          .then(() => closeA(ra.value))
          .catch(() => undefined);
      if (rb.status === 'fulfilled')
        await Promise.resolve()
          .then(() => closeB(rb.value))
          .catch(() => undefined);
    });
    throw err;
  } finally {
    if (onStop) stop?.removeEventListener('abort', onStop);
  }
}

/** Waits for every promise to settle, then rejects with the first failure (if any). */
export async function settledAll(promises: readonly Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Start-up waits for a dependency that is still coming up, saying so, rather than dying; an
 * error no wait can mend (refused credentials, a setting the server refuses) stops it at once.
 */
export function startupRetry(
  fn: () => Promise<void>,
  what: string,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  return retry(
    async () => {
      try {
        await fn();
      } catch (err) {
        if (isFatal(err)) throw Object.assign(err as object, { retriable: false });
        throw gaveUpOnRetriable(err) ? Object.assign(err as object, { retriable: true }) : err;
      }
    },
    {
      minMs: 250,
      maxMs: 5000,
      attempts: 30,
      signal,
      onRetry: (err, attempt) => {
        if (attempt === 1 || attempt % 5 === 0)
          log.warn({ err, attempt }, `${what} not reachable yet; retrying`);
      },
    },
  );
}

/**
 * kafkajs gives up on a broker after its own few tries (~10 s) and marks that not retriable;
 * at start-up the broker may still be coming up, so what it gave up on is tried again when
 * that was retriable (a refused connection). Before, a hub started while Kafka was down
 * exited after those 10 s instead of waiting.
 */
function gaveUpOnRetriable(err: unknown): boolean {
  const e = err as { name?: unknown; cause?: unknown } | null;
  return e?.name === 'KafkaJSNumberOfRetriesExceeded' && isRetriable(e.cause);
}

/** Our own errors marked not retriable, and Kafka's refusal of the credentials. */
function isFatal(err: unknown): boolean {
  if (err instanceof IotError) return !err.retriable;
  return (err as { name?: unknown } | null)?.name === 'KafkaJSSASLAuthenticationError';
}
