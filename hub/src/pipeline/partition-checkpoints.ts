import { IotError } from '@iot-stream/contracts';
import type { Logger } from 'pino';
import type { Notification } from '../notify/notifications.ts';
import type { Checkpoint, CheckpointStore } from '../ports.ts';
import {
  PartitionProcessor,
  type PartitionProcessorOptions,
} from '../processing/partition-processor.ts';
import { encodeJson } from '../state/json-sequence.ts';
import type { NotificationOutbox } from './notification-outbox.ts';
import type { Owned } from './owned.ts';
import { SavedCheckpoints } from './saved-checkpoints.ts';

export interface PartitionCheckpointsOptions {
  checkpoints: CheckpointStore;
  processor: PartitionProcessorOptions;
  log: Logger;
  elapsed: () => number;
  outbox: NotificationOutbox;
  /** The pipeline's assignment: its number (bumped by each) and its partitions. */
  generation: () => number;
  assigned: () => readonly number[];
}

/**
 * The pipeline's checkpoints: a partition opened from its newest one (kept in memory, else
 * loaded with the rest of the assignment's), and its state written into a new one, in call
 * order. What each costs this thread is kept per partition (checkpoint-cadence.ts paces by it).
 */
export class PartitionCheckpoints {
  readonly saved = new SavedCheckpoints();
  readonly counters = { checkpoints: 0, checkpointMs: 0 };
  private loading: Promise<Map<number, Checkpoint>> | undefined;
  /** The checkpoint being made and stored, any partition's (one at a time: see checkpoint). */
  private storing: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: PartitionCheckpointsOptions) {}

  /** A new assignment: nothing saved or loading is known to be the newest any more. */
  clear(): void {
    this.saved.clear();
    this.loading = undefined;
  }

  /** The partition's processor restored from its newest checkpoint (none: from the start). */
  async open(partition: number): Promise<Owned> {
    const o = this.options;
    let checkpoint = this.saved.get(partition);
    if (!checkpoint) {
      let loaded: Map<number, Checkpoint>;
      const assigned = o.assigned();
      // Reopened after a failure once its copy went (the store acknowledged it): the store's
      // newest, not the assignment's first load.
      if (this.saved.has(partition)) loaded = await o.checkpoints.load([partition]);
      else if (assigned.includes(partition)) {
        this.loading ??= o.checkpoints.load(assigned);
        loaded = await this.loading.catch((err: unknown) => {
          this.loading = undefined;
          throw err;
        });
      } else loaded = await o.checkpoints.load([partition]);
      checkpoint = loaded.get(partition);
      if (!checkpoint && this.saved.durable(partition) !== '-1')
        throw new IotError(
          'CHECKPOINT_FAILED',
          `partition ${partition}: the checkpoint store no longer gives the checkpoint it acknowledged (offset ${this.saved.durable(partition)})`,
          { retriable: true },
        );
      if (checkpoint) {
        // Held: a partition failing again reopens from it, not from another load per retry.
        this.saved.keep(partition, checkpoint.offset, JSON.stringify(checkpoint), true);
        this.saved.acknowledged(partition, checkpoint.offset);
      }
    }
    const processor = new PartitionProcessor(o.processor);
    if (checkpoint) processor.restore(checkpoint.state);
    const owned: Owned = {
      processor,
      offset: checkpoint?.offset ?? '-1',
      pending: o.outbox.unsent(partition, checkpoint?.pending ?? []),
      carry: [...(checkpoint?.ticks ?? [])],
      checkpointedAt: o.elapsed(),
      sinceCheckpoint: 0,
      checkpointCostMs: 0,
      lastInputAt: o.elapsed(),
      lag: 0,
    };
    o.log.info(
      { partition, offset: owned.offset, checkpoint: checkpoint !== undefined },
      checkpoint ? 'partition opened from its checkpoint' : 'partition opened (no checkpoint yet)',
    );
    return owned;
  }

  /**
   * Checkpoints the partition's state as of `offset`; resolves once the store has it. One
   * partition's at a time: while stored, a checkpoint is its JSON (up to twice its size in
   * the buffer it was written into) and the Kafka client's record batch of it (kafkajs grows
   * its own buffer by doubling), each tens of MB at a few thousand series a partition; with
   * `partitionsConsumedConcurrently` of them at once a hub holding 100k series outgrew a 1 GiB
   * memory limit (test/bench/hub-scale.ts). So what it holds is read when its turn comes:
   * the notifications still to send (`pending`: the outbox may send some meanwhile), and
   * nothing at all once the assignment changed while it waited (its state is the old one's).
   * The outbox's rewrites take turns with them (`rewrite`).
   */
  async checkpoint(
    partition: number,
    owned: Owned,
    offset: string,
    pending: () => Notification[],
  ): Promise<void> {
    const generation = this.options.generation();
    const turn = this.storing.then(() =>
      generation === this.options.generation()
        ? this.checkpointNow(partition, owned, offset, pending(), generation)
        : undefined,
    );
    this.storing = turn.catch(() => undefined);
    return turn;
  }

  private async checkpointNow(
    partition: number,
    owned: Owned,
    offset: string,
    pending: Notification[],
    generation: number,
  ): Promise<void> {
    const { elapsed } = this.options;
    const started = elapsed();
    const state = owned.processor.snapshot(true); // made as enqueue encodes it
    const ticks = owned.carry.length > 0 ? { ticks: [...owned.carry] } : {};
    const saving = this.enqueue(
      partition,
      { v: 1, offset, state, pending, ...ticks },
      generation,
    ).stored;
    owned.checkpointCostMs = elapsed() - started; // this thread's part, not the store's
    this.counters.checkpointMs += owned.checkpointCostMs;
    await saving;
    owned.offset = offset;
    owned.pending = pending;
    owned.checkpointedAt = elapsed();
    owned.sinceCheckpoint = 0;
    this.counters.checkpoints += 1;
  }

  /**
   * Rewrites the partition's newest checkpoint (the outbox's marks: a notification being sent,
   * then sent) in its turn like any checkpoint, so no more than one is ever made and stored at
   * once: `edit` gets the newest one as it stands when the turn comes (a batch's checkpoint
   * queued before it is stored by then) and what it returns is stored (undefined: nothing).
   * Resolves once stored: true when a rewrite was, false when there was nothing to rewrite
   * (no checkpoint by then: the partition went in a rebalance) or `edit` gave nothing. Rejects
   * when the store failed, after `undo` ran and the checkpoint before it became the newest
   * again, before any later checkpoint is made.
   */
  rewrite(
    partition: number,
    edit: (latest: Checkpoint) => Checkpoint | undefined,
    undo?: () => void,
  ): Promise<boolean> {
    const turn = this.storing.then(async () => {
      const latest = this.saved.get(partition);
      const next = latest && edit(latest);
      if (!next) return false;
      const before = this.saved.entry(partition);
      let seq: number | undefined;
      try {
        const written = this.enqueue(partition, next);
        seq = written.seq;
        await written.stored;
      } catch (err) {
        if (seq !== undefined) this.saved.putBack(partition, seq, before);
        undo?.();
        throw err;
      }
      return true;
    });
    this.storing = turn.catch(() => undefined);
    return turn;
  }

  /**
   * Writes a checkpoint, kept as the partition's newest (`saved`) at once. Only in its turn
   * (checkpoint, rewrite): the store gets them in call order, one at a time. `seq`: its number
   * in `saved`; `stored` rejects when the store failed (thrown or rejected).
   */
  private enqueue(
    partition: number,
    checkpoint: Checkpoint,
    generation = this.options.generation(),
  ): { seq: number; stored: Promise<void> } {
    const json = encodeJson(checkpoint); // at once: a lazy state reads the live one
    const pending = (checkpoint.pending?.length ?? 0) > 0; // the outbox rewrites it
    const seq = this.saved.keep(partition, checkpoint.offset, json, pending);
    let saved: Promise<void>;
    try {
      saved = this.options.checkpoints.save(partition, json);
    } catch (err) {
      saved = Promise.reject(err);
    }
    // Only this assignment's: an earlier one's write may land after the partition was reopened
    // from an older checkpoint, which its next checkpoint then overwrites.
    const stored = saved.then(() => {
      if (generation === this.options.generation())
        this.saved.acknowledged(partition, checkpoint.offset, seq);
    });
    return { seq, stored };
  }
}
