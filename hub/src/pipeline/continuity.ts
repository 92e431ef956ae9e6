import type { Logger } from 'pino';
import { SourceGapError } from '../errors.ts';
import type { SourceBatch } from '../ports.ts';
import type { Owned } from './owned.ts';

/**
 * Where each partition's next batch must start, so that no record is skipped between the
 * partition's state and what the source delivers (the pipeline's half of SOURCE_GAP).
 */
export class Continuity {
  /**
   * Partitions whose core was dropped after a failure while it held records beyond its
   * checkpoint, with the offset to read again from: until a batch starts there, the source is
   * sent back to it.
   */
  private dropped = new Map<number, string>();
  /** Partitions whose source was sent back once, in this assignment, for a gap (SourceGapError). */
  private rewound = new Set<number>();

  constructor(private readonly log: Logger) {}

  /** A new assignment: nothing is owed. */
  reset(): void {
    this.dropped.clear();
    this.rewound.clear();
  }

  /**
   * The partition's core was dropped; `checkpointed` is the last offset its checkpoint covers
   * ('-1': none). Records it had processed beyond that must be read again.
   */
  drop(partition: number, owned: Owned | undefined, checkpointed: string): void {
    if (!owned || owned.offset === checkpointed || this.dropped.has(partition)) return;
    const next = checkpointed === '-1' ? owned.first : String(BigInt(checkpointed) + 1n);
    if (next !== undefined) this.dropped.set(partition, next);
  }

  /**
   * A batch must start at or before the offset after the state's. After a failure dropped the
   * core, the source is sent back to the checkpoint as often as it comes back with records
   * after it (it retries the failed batch, or fetches on). Otherwise a gap is a rejoin that left
   * kafkajs fetching past records the reopened partition never processed (kafka-source.ts):
   * the first time, the source is sent back there; a second gap in the same assignment means
   * the records are gone from the topic (retention, or an offset reset): logged, and processed
   * on. A partition without a checkpoint or records yet takes whatever the source starts at.
   */
  check(batch: SourceBatch, owned: Owned): void {
    const { partition } = batch;
    const first = batch.records[0]?.offset ?? batch.invalid[0]?.offset;
    const from = batch.fetchedFrom ?? first;
    const again = this.dropped.get(partition);
    if (again !== undefined && from !== undefined) {
      if (BigInt(from) > BigInt(again)) throw new SourceGapError(partition, again, from);
      this.dropped.delete(partition);
    }
    owned.first ??= from;
    const { fetchedFrom } = batch;
    if (fetchedFrom === undefined || owned.offset === '-1') return;
    const next = BigInt(owned.offset) + 1n;
    if (BigInt(fetchedFrom) <= next) return;
    if (!this.rewound.has(partition)) {
      this.rewound.add(partition);
      throw new SourceGapError(partition, String(next), fetchedFrom);
    }
    this.log.error(
      { partition, fetchedFrom, next: String(next) },
      "records after the partition's state are not in the topic any more; processing on without them",
    );
  }
}
