import { IotError, type ReadingRecord } from '@iot-stream/contracts';
import type { BatchOutput } from '../ports.ts';

/** What a batch write left out. */
export interface WriteOutcome {
  /** Readings the store refused for their content, with its reason: to dead-letter. */
  rejected: { record: ReadingRecord; reason: string }[];
  /** Aggregates and episode events the store refused (derived data: logged and counted). */
  rejectedDerived: number;
}

/**
 * A store refused (part of) a write for its content (InfluxDB answered 400, SQLite found a
 * value it cannot store): trying the same data again fails the same way. Anything else (an
 * outage, a timeout, a full disk) is worth retrying.
 */
export function isRejection(err: unknown): boolean {
  return err instanceof IotError && !err.retriable;
}

/**
 * Writes one batch's outputs. An outage rejects as before, so the source retries the batch and
 * commits nothing behind it. A batch the store refuses for its content is split in halves until
 * the refused items are found and everything else is written (writes are idempotent: the same
 * points again change nothing), so one bad record never blocks its partition.
 */
export async function writeIsolating(
  write: (batch: BatchOutput) => Promise<void>,
  batch: BatchOutput,
): Promise<WriteOutcome> {
  const outcome: WriteOutcome = { rejected: [], rejectedDerived: 0 };
  try {
    await write(batch);
    return outcome;
  } catch (err) {
    if (!isRejection(err)) throw err;
  }
  const only = (part: Partial<BatchOutput>): BatchOutput => ({
    readings: [],
    aggregates: [],
    events: [],
    ...(batch.siteOf ? { siteOf: batch.siteOf } : {}),
    ...part,
  });
  for (const r of await bisect(batch.readings, (readings) => write(only({ readings }))))
    outcome.rejected.push({ record: r.item, reason: r.reason });
  outcome.rejectedDerived += (
    await bisect(batch.aggregates, (aggregates) => write(only({ aggregates })))
  ).length;
  outcome.rejectedDerived += (
    await bisect(batch.events, (events) => write(only({ events })))
  ).length;
  return outcome;
}

/** The items `write` refuses (an outage on the way rejects). */
async function bisect<T>(
  items: readonly T[],
  write: (items: readonly T[]) => Promise<void>,
): Promise<{ item: T; reason: string }[]> {
  if (items.length === 0) return [];
  try {
    await write(items);
    return [];
  } catch (err) {
    if (!isRejection(err)) throw err;
    if (items.length === 1) return [{ item: items[0] as T, reason: (err as Error).message }];
  }
  const mid = Math.ceil(items.length / 2);
  return [
    ...(await bisect(items.slice(0, mid), write)),
    ...(await bisect(items.slice(mid), write)),
  ];
}
