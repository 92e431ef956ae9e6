import { IotError } from '@iot-stream/contracts';
import type { Logger } from 'pino';
import { SourceGapError } from '../errors.ts';
import type { SourceBatch } from '../ports.ts';
import type { Owned } from './owned.ts';

/** The oldest offset the source still holds for a partition (Kafka: its log start offset). */
export type RetainedFrom = (partition: number) => Promise<string>;

/**
 * Where each partition's next batch must start, so that no record is skipped between the
 * partition's state and what the source delivers (the pipeline's half of SOURCE_GAP).
 */
export class Continuity {
  /**
   * Partitions whose core was dropped after a failure while it held records beyond its
   * checkpoint, with the offset to read again from.
   */
  private dropped = new Map<number, string>();
  /** Per partition, the offset its source was last sent back to (this assignment). */
  private sentBack = new Map<number, string>();
  /** Per partition: the records before this offset are gone from the topic (see gap). */
  private gone = new Map<number, string>();
  /** Bumped by every reset: a check of an earlier assignment changes nothing after it. */
  private epoch = 0;

  constructor(
    private readonly log: Logger,
    private readonly retainedFrom: RetainedFrom,
  ) {}

  /** A new assignment: nothing is owed. */
  reset(): void {
    this.dropped.clear();
    this.sentBack.clear();
    this.gone.clear();
    this.epoch += 1;
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
   * A batch must start at or before the offset after the state's: after a failure dropped the
   * core, the retried batch or the next one fetched starts past it; after a rejoin, kafkajs may
   * fetch on past records the reopened partition never processed (kafka-source.ts). Such a
   * batch is refused with a SourceGapError, which sends the source back there. When the source
   * comes back past the same offset again, either the batch was fetched before the send-back,
   * or the records are gone from the topic (retention during a long outage, an offset reset:
   * Kafka then fetches from the oldest offset it holds). The source's retention decides (gap).
   * A partition without a checkpoint or records yet takes whatever the source starts at. A
   * check still running when the assignment changes changes nothing (the pipeline drops the
   * batch).
   */
  async check(batch: SourceBatch, owned: Owned): Promise<void> {
    const { partition, fetchedFrom } = batch;
    const epoch = this.epoch;
    const again = this.dropped.get(partition);
    const fetched = fetchedFrom ?? firstOffset(batch);
    // Without the fetch position, only a drop's re-read is checked: Kafka's first record may
    // lie past the position (transaction markers), which is no gap.
    const from = again !== undefined ? fetched : fetchedFrom;
    const after = owned.offset === '-1' ? undefined : String(BigInt(owned.offset) + 1n);
    const need = later(again ?? after, this.gone.get(partition));
    if (need !== undefined && from !== undefined) {
      if (BigInt(from) > BigInt(need)) await this.gap(partition, need, from, epoch);
      if (epoch !== this.epoch) return;
      this.sentBack.delete(partition);
      this.gone.delete(partition);
      this.dropped.delete(partition);
    }
    owned.first ??= fetched;
  }

  /**
   * The source skipped from `need` to `from`. The first time it is sent back to `need`; past
   * `need` again, the oldest offset the topic holds decides: at or before `need`, the records
   * are there (a batch fetched before the send-back): sent back again; after it, the records
   * from `need` to there are gone: logged, and the partition goes on from the oldest one held
   * (sent back there when the batch starts later still).
   */
  private async gap(partition: number, need: string, from: string, epoch: number): Promise<void> {
    if (this.sentBack.get(partition) !== need) {
      this.sentBack.set(partition, need);
      throw new SourceGapError(partition, need, from);
    }
    const retained = await this.retainedFrom(partition).catch((err: unknown) => {
      throw new IotError(
        'SOURCE_OFFSETS_FAILED',
        `partition ${partition}: the oldest offset the topic holds could not be read`,
        { retriable: true, cause: err },
      );
    });
    if (epoch !== this.epoch) return;
    if (BigInt(retained) <= BigInt(need)) throw new SourceGapError(partition, need, from);
    this.log.error(
      { partition, need, retainedFrom: retained, fetchedFrom: from },
      "records after the partition's state are not in the topic any more; processing on from the oldest one it holds",
    );
    if (BigInt(from) > BigInt(retained)) {
      this.gone.set(partition, retained);
      this.sentBack.set(partition, retained);
      throw new SourceGapError(partition, retained, from);
    }
  }
}

/** The later of two offsets (either may be absent). */
function later(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return BigInt(a) >= BigInt(b) ? a : b;
}

/** The smallest offset of a batch's records, valid or not. */
function firstOffset(batch: SourceBatch): string | undefined {
  const r = batch.records[0]?.offset;
  const i = batch.invalid[0]?.offset;
  if (r === undefined || i === undefined) return r ?? i;
  return BigInt(r) <= BigInt(i) ? r : i;
}
