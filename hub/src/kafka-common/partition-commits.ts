import type { Logger } from 'pino';
import type { BatchHandler, SourceBatch } from '../ports.ts';

/** Sends one partition's commit (`offset`: the next offset to read) to the group. */
export type CommitSend = (offsets: { partition: number; offset: string }[]) => Promise<unknown>;

export interface PartitionCommitsOptions {
  log: Logger;
  /** See KafkaSourceOptions.flushAfterMs. */
  flushAfterMs: number;
  /** Whether the source still runs (nothing is committed or flushed after stop). */
  running: () => boolean;
  /** The pipeline's batch handler, for flush batches. */
  handle: () => BatchHandler;
  /** Commits outside a batch (after a flush). */
  commitFlush: CommitSend;
}

/**
 * A reading source's offsets per consumer generation, for both Kafka clients: what was
 * committed, and the flush batches that commit what the pipeline processed but had not
 * checkpointed yet. Every commit and flush names the generation its batch was fetched in and
 * is dropped once the group moved on: after a rebalance the partition may be someone else's,
 * and a commit would then move their position.
 */
export class PartitionCommits {
  /** Bumped by every rebalance, crash and stop: flushes of an older one are dropped. */
  generation = 0;
  /** Per partition, in this generation: the offset last committed (the next to read). */
  private committed = new Map<number, bigint>();
  /** Per partition, in this generation: the furthest batch the handler processed. */
  private processed = new Map<number, SourceBatch>();
  private flushes = new Map<number, NodeJS.Timeout>();

  constructor(private readonly options: PartitionCommitsOptions) {}

  newGeneration(): void {
    this.generation += 1;
    this.committed.clear();
    this.processed.clear();
    for (const timer of this.flushes.values()) clearTimeout(timer);
    this.flushes.clear();
  }

  /** After the handler processed `batch` (covering `covered`): commit, and arm the flush. */
  async settle(
    generation: number,
    batch: SourceBatch,
    covered: string,
    send: CommitSend,
  ): Promise<void> {
    await this.commit(generation, batch.partition, covered, send);
    this.scheduleFlush(generation, batch.partition, covered, batch);
  }

  /**
   * Commits `covered` + 1 unless already, and only within `generation`. A failure is logged (a
   * later commit catches up).
   */
  private async commit(
    generation: number,
    partition: number,
    covered: string,
    send: CommitSend,
  ): Promise<void> {
    const next = BigInt(covered) + 1n;
    if (!this.options.running() || generation !== this.generation) return;
    if (next <= (this.committed.get(partition) ?? 0n)) return;
    try {
      await send([{ partition, offset: next.toString() }]);
      if (generation === this.generation) this.committed.set(partition, next);
    } catch (err) {
      this.options.log.warn({ err, partition, offset: String(next) }, 'offset commit failed');
    }
  }

  /**
   * (Re)arms the partition's flush while it has processed offsets beyond its checkpoint: as far
   * as the furthest batch of the generation, so a batch fetched twice (two brokers' fetchers
   * during a leader change) that the checkpoint covers does not cancel the flush of a later one.
   */
  private scheduleFlush(
    generation: number,
    partition: number,
    covered: string,
    batch: SourceBatch,
  ): void {
    if (!this.options.running() || generation !== this.generation) return;
    // Kept (and captured by the timer) without its records: only its position is needed, and a
    // timer holding a batch kept every partition's last batch alive under a backlog.
    const seen = this.processed.get(partition);
    const last =
      seen && BigInt(seen.lastOffset) >= BigInt(batch.lastOffset)
        ? seen
        : { ...batch, records: [], invalid: [] };
    this.processed.set(partition, last);
    clearTimeout(this.flushes.get(partition));
    this.flushes.delete(partition);
    if (BigInt(covered) >= BigInt(last.lastOffset)) return;
    const timer = setTimeout(() => {
      this.flushes.delete(partition);
      void this.flush(partition, generation, last);
    }, this.options.flushAfterMs);
    timer.unref();
    this.flushes.set(partition, timer);
  }

  private async flush(partition: number, generation: number, last: SourceBatch): Promise<void> {
    if (!this.options.running() || generation !== this.generation) return;
    const batch: SourceBatch = { ...last, records: [], invalid: [], flush: true };
    try {
      const result = await this.options.handle()(batch);
      const covered = typeof result === 'string' ? result : last.lastOffset;
      await this.commit(generation, partition, covered, this.options.commitFlush);
      this.scheduleFlush(generation, partition, covered, last);
    } catch (err) {
      this.options.log.warn({ err, partition }, 'flush of uncheckpointed offsets failed');
      this.scheduleFlush(generation, partition, '-1', last);
    }
  }
}
