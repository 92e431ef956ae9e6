import { type Backoff, backoffMs, sleep } from '@iot-stream/contracts';
import type { Logger } from 'pino';
import { SourceGapError } from '../errors.ts';
import type { BatchHandler, SourceBatch, SourceCounters } from '../ports.ts';

export interface RunBatchOptions {
  handle: BatchHandler;
  /** Whether the batch still belongs to the running consumer generation that fetched it. */
  current: () => boolean;
  counters: SourceCounters;
  log: Logger;
  backoff?: Omit<Backoff, 'random'>;
  /** Records fetched for the batch, legacy control records included (counters.records). */
  fetched: number;
  /** Between retries (kafkajs: a heartbeat). */
  between?: () => Promise<void>;
}

/**
 * What became of a batch: processed, with the last offset its checkpoint covers; rejected with
 * a gap (fetch again from `gap.next`); or outlived its generation (fetched again from the
 * committed offset, never resolved or committed here).
 */
export type BatchOutcome = { covered: string } | { gap: SourceGapError } | { stale: true };

/**
 * Hands a batch to the pipeline until it is processed, for both Kafka clients: a failing write
 * is retried with backoff, never skipped, while nothing is committed (the backpressure: the
 * partition goes no further meanwhile), and given up only when the generation moved on.
 */
export async function runBatch(batch: SourceBatch, o: RunBatchOptions): Promise<BatchOutcome> {
  for (let attempt = 1; ; attempt += 1) {
    // Uncommitted and unresolved: fetched again from the committed offset.
    if (!o.current()) return { stale: true };
    try {
      const result = await o.handle(batch);
      if (!o.current()) {
        // Rejoined meanwhile: moving on now would skip these records in the new generation.
        o.log.info(
          { partition: batch.partition, lastOffset: batch.lastOffset },
          'batch outlived its consumer generation: left to be fetched again',
        );
        return { stale: true };
      }
      o.counters.batches += 1;
      o.counters.records += o.fetched;
      o.counters.invalid += batch.invalid.length;
      return { covered: typeof result === 'string' ? result : batch.lastOffset };
    } catch (err) {
      if (err instanceof SourceGapError) {
        // Fetched past records the partition's state lacks: fetch again from there.
        o.log.warn(
          { err, partition: batch.partition },
          'batch fetched past what the partition state holds: fetching again from there',
        );
        return { gap: err };
      }
      o.counters.writeFailures += 1;
      const delay = backoffMs(attempt, {
        ...(o.backoff ?? { minMs: 200, maxMs: 10_000 }),
        random: Math.random,
      });
      o.log.warn(
        { err, partition: batch.partition, retryInMs: delay },
        'write failed; retrying batch',
      );
      await sleep(delay);
      await o.between?.();
    }
  }
}
