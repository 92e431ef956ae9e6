import { IotError, type ReadingRecord } from '@iot-stream/contracts';
import { SourceGapError } from '../errors.ts';
import type { DeadLetter, SourceBatch } from '../ports.ts';
import type { PartitionTick } from '../processing/partition-processor.ts';
import { BatchEffects } from './batch-effects.ts';
import { checkpointDue, costAllows } from './checkpoint-cadence.ts';
import { Continuity } from './continuity.ts';
import type { FailingPartition, PipelineCounters } from './counters.ts';
import { NotificationOutbox } from './notification-outbox.ts';
import type { PipelineOptions } from './options.ts';
import type { Owned } from './owned.ts';
import { PartitionCheckpoints } from './partition-checkpoints.ts';

export type { FailingPartition, PipelineCounters } from './counters.ts';
export type { PipelineOptions } from './options.ts';

/**
 * Per partition: process a batch with the partition's stream core, write raw readings,
 * aggregates and episodes to the store, dead-letter invalid and refused records, publish
 * episode events (batch-effects.ts), then checkpoint the core with the last offset it covers. Only after all of
 * that resolves does the source commit the offsets. A batch that fails anywhere drops the
 * partition's core: it is rebuilt from the last checkpoint (kept in memory, else loaded) and the
 * records after it are read again from the source (SourceGapError sends a source that moved on
 * back), so a retry never sees a half-applied core, and nothing after a checkpoint is held in
 * memory to rebuild it (a log of those batches was most of the hub's memory under load).
 */
export class Pipeline {
  private owned = new Map<number, Owned>();
  private assigned: number[] = [];
  /** Per partition: batches and checkpoint rewrites, one at a time. */
  private chains = new Map<number, Promise<unknown>>();
  /** Partitions whose last write failed (retried by the source). */
  private failing = new Map<number, FailingPartition>();
  /** Bumped by every assignment: work of an older one must not write checkpoints. */
  private generation = 0;
  private readonly elapsed: () => number;
  private readonly continuity: Continuity;
  private readonly effects: BatchEffects;
  private readonly outbox: NotificationOutbox;
  private readonly states: PartitionCheckpoints;
  private readonly own = {
    invalid: 0,
    lag: {} as Record<string, number>,
    partitions: 0,
    writeFailures: 0,
    punctuations: 0,
  };

  constructor(private readonly options: PipelineOptions) {
    this.elapsed = options.elapsed ?? (() => performance.now());
    this.continuity = new Continuity(options.log, options.retainedFrom ?? (async () => '0'));
    this.effects = new BatchEffects({
      store: options.store,
      outputs: options.outputs,
      source: options.source,
      log: options.log,
      notify: options.notifier !== undefined,
      notifyOn: options.notifyOn,
      onWritten: options.onWritten,
    });
    this.outbox = new NotificationOutbox({
      notifier: options.notifier,
      resendAttempted: options.resendAttempted,
      log: options.log,
      host: {
        holder: (p) => this.owned.get(p),
        rewrite: (p, edit, undo) => this.states.rewrite(p, edit, undo),
      },
    });
    this.states = new PartitionCheckpoints({
      checkpoints: options.checkpoints,
      processor: options.processor,
      log: options.log,
      elapsed: this.elapsed,
      outbox: this.outbox,
      generation: () => this.generation,
      assigned: () => this.assigned,
    });
  }

  /** What the pipeline counted so far (a copy: read-only from outside). */
  get counters(): Readonly<PipelineCounters> {
    return {
      ...this.effects.counters,
      ...this.outbox.counters,
      ...this.states.counters,
      ...this.own,
      lag: { ...this.own.lag },
    };
  }

  /** The slowest store write since the last call (for hub_health's interval maximum). */
  takeWriteMsMax(): number {
    const max = this.effects.counters.writeMsMax;
    this.effects.counters.writeMsMax = 0;
    return max;
  }

  /** Notifications queued or being sent now (bounded by the queue). */
  get notificationsInFlight(): number {
    return this.outbox.inFlight;
  }

  /** Partitions whose writes are failing now (empty when all is well): for /api/health. */
  failingPartitions(): FailingPartition[] {
    return [...this.failing.values()];
  }

  /** A rebalance: whatever we held may have moved on elsewhere; start again from checkpoints. */
  assign(partitions: number[]): void {
    this.owned.clear();
    this.states.clear();
    this.assigned = partitions;
    this.own.lag = {};
    this.own.partitions = partitions.length;
    this.failing.clear();
    this.continuity.reset();
    this.generation += 1;
    this.chains.clear();
    // The outbox keeps what it sent: a partition that stays here must not re-send it.
  }

  /**
   * Resolves with the last offset of the partition a stored checkpoint covers ('-1': none). A batch
   * handed over before an assignment and still running after it is not applied to the new
   * assignment's state, checkpointed or kept: it resolves with '-1', and the source leaves it to
   * be fetched again.
   */
  handle(batch: SourceBatch): Promise<string> {
    const generation = this.generation;
    return this.serially(batch.partition, async () => {
      try {
        const covered = await this.apply(batch, generation);
        if (generation !== this.generation) return '-1';
        this.failing.delete(batch.partition);
        return covered;
      } catch (err) {
        if (generation !== this.generation || err instanceof SourceGapError) throw err;
        this.drop(batch.partition);
        this.own.writeFailures += 1;
        const was = this.failing.get(batch.partition);
        this.failing.set(batch.partition, {
          partition: batch.partition,
          since: was?.since ?? Date.now(),
          code: err instanceof IotError ? err.code : 'WRITE_FAILED',
        });
        throw err;
      }
    });
  }

  /**
   * Moves the time of every assigned partition that has been quiet for `quietMs` on (see
   * kafka/idle-ticker.ts), so a device silent alone in its partition is still reported and its
   * windows close. Resolves with how many partitions were punctuated.
   */
  async punctuateQuiet(quietMs: number): Promise<number> {
    if (this.options.live && !this.options.live()) return 0;
    let n = 0;
    for (const partition of this.assigned) {
      const done = await this.punctuate(partition, quietMs).catch((err: unknown) => {
        this.options.log.warn({ err, partition }, 'punctuation of a quiet partition failed');
        return false;
      });
      if (done) n += 1;
    }
    return n;
  }

  /**
   * One quiet partition's time moves on, in its own time: the newest receivedAt it processed
   * plus the time elapsed since (measured here, never the hub's wall clock, so a hub clock off
   * by hours changes nothing). The decision goes into a checkpoint before it is applied, and
   * the state after it into the next one, so a hub that stops in between applies the same
   * punctuation again at the same place: outputs stay a function of the log and the
   * checkpoints. Not while the partition is behind or its writes fail: it is not quiet then.
   */
  private punctuate(partition: number, quietMs: number): Promise<boolean> {
    const generation = this.generation;
    return this.serially(partition, async () => {
      if (generation !== this.generation || !this.assigned.includes(partition)) return false;
      if (this.failing.has(partition)) return false;
      const owned = this.owned.get(partition) ?? (await this.open(partition));
      const quietFor = this.elapsed() - owned.lastInputAt;
      const newest = owned.processor.newestReceivedAt;
      if (owned.lag > 0 || quietFor < quietMs || newest === null) return false;
      const time = newest + Math.floor(quietFor);
      if (!owned.processor.wouldTick(time) && owned.carry.length === 0) return false;
      owned.carry.push(time);
      await this.states.checkpoint(partition, owned, owned.offset, () => owned.pending);
      if (generation !== this.generation) return false;
      await this.run(partition, owned, [], this.takeCarry(owned), 0, generation);
      this.own.punctuations += 1;
      return true;
    }).catch((err: unknown) => {
      this.drop(partition); // reopened from the checkpoint, which holds the decision
      throw err;
    });
  }

  /** Forgets the partition's core; records it processed after its checkpoint are read again. */
  private drop(partition: number): void {
    this.continuity.drop(partition, this.owned.get(partition), this.states.saved.offset(partition));
    this.owned.delete(partition);
  }

  private takeCarry(owned: Owned): PartitionTick[] {
    const ticks = owned.carry.map((tick) => ({ tick }));
    owned.carry = [];
    return ticks;
  }

  private serially<T>(partition: number, fn: () => Promise<T>): Promise<T> {
    const run = (this.chains.get(partition) ?? Promise.resolve()).then(fn);
    this.chains.set(
      partition,
      run.catch(() => undefined),
    );
    return run;
  }

  private async apply(batch: SourceBatch, generation: number): Promise<string> {
    const { partition } = batch;
    const owned = this.owned.get(partition) ?? (await this.open(partition));
    // Stale: `owned` may be the new assignment's; records processed into it now would be
    // processed again when the source delivers them in the new generation.
    if (generation !== this.generation) return '-1';
    if (batch.flush) return this.flush(partition, owned);
    const covered = BigInt(owned.offset);
    const records = batch.records.filter((r) => BigInt(r.offset) > covered);
    const invalid = batch.invalid.filter((r) => BigInt(r.offset) > covered);
    if (BigInt(batch.lastOffset) <= covered) return this.states.saved.durable(partition); // done before
    await this.continuity.check(batch, owned);
    if (generation !== this.generation) return '-1'; // reassigned while the source was asked
    owned.lastInputAt = this.elapsed();
    owned.lag = Number(BigInt(batch.highWatermark) - BigInt(batch.lastOffset) - 1n);
    const inputs = [...this.takeCarry(owned), ...records.map((r) => r.record)];
    const dead: DeadLetter[] = invalid.map((i) => ({
      key: i.key,
      value: i.value,
      code: i.code,
      reason: i.reason,
      source: { topic: this.options.source, partition, offset: i.offset },
    }));
    for (const i of invalid)
      this.options.log.error(
        { partition, offset: i.offset, code: i.code, reason: i.reason },
        'invalid record sent to dead-letter topic',
      );
    await this.run(
      partition,
      owned,
      dead,
      inputs,
      batch.records.length + batch.invalid.length,
      generation,
      { lastOffset: batch.lastOffset },
    );
    this.own.invalid += invalid.length;
    this.own.lag[partition] = owned.lag;
    return this.states.saved.durable(partition);
  }

  /**
   * Runs inputs through the partition's processor and carries out what they produced
   * (batch-effects.ts); then checkpoints when due (a punctuation always: `batch` absent) and
   * starts delivering new notifications.
   */
  private async run(
    partition: number,
    owned: Owned,
    dead: DeadLetter[],
    inputs: (ReadingRecord | PartitionTick)[],
    records: number,
    generation: number,
    batch?: { lastOffset: string },
  ): Promise<void> {
    const out = owned.processor.process(inputs);
    const fresh = await this.effects.carryOut(partition, out, dead);
    // Reassigned meanwhile: the outputs are written (the same again when redone); the state
    // is the old assignment's, so neither checkpointed nor kept for a rebuild.
    if (generation !== this.generation) return;
    const every = this.options.checkpointEvery;
    owned.sinceCheckpoint += records;
    const lastOffset = batch?.lastOffset ?? owned.offset;
    const due =
      batch === undefined ||
      every === undefined ||
      fresh.length > 0 ||
      checkpointDue(every, owned, this.elapsed(), this.checkpointRoundMs());
    if (due) {
      // (Read when the checkpoint's turn comes: the outbox may deliver some meanwhile.)
      const pending = () =>
        [...owned.pending, ...fresh].filter((n) => !this.outbox.isDelivered(n.key));
      await this.states.checkpoint(partition, owned, lastOffset, pending);
      if (generation !== this.generation) return; // (reassigned while it waited: not made)
      this.outbox.deliver(partition, owned);
      return;
    }
    // Written and sent, not checkpointed: after a failure, read again from the source.
    owned.offset = lastOffset;
  }

  /** Checkpoints what the processor holds beyond the last checkpoint (the source's timer). */
  private async flush(partition: number, owned: Owned): Promise<string> {
    // Also when the newest checkpoint's write failed: the partition was reopened from it. Not
    // before its cost allows (the source flushes again while offsets stay uncommitted).
    const behind = owned.offset !== this.states.saved.durable(partition);
    const every = this.options.checkpointEvery;
    const allowed = costAllows(every, owned, this.elapsed(), this.checkpointRoundMs());
    if ((behind && allowed) || owned.carry.length > 0)
      await this.states.checkpoint(partition, owned, owned.offset, () => owned.pending);
    return this.states.saved.durable(partition);
  }

  /** The last checkpoint cost of every partition held, summed (checkpoint-cadence.ts). */
  private checkpointRoundMs(): number {
    let ms = 0;
    for (const owned of this.owned.values()) ms += owned.checkpointCostMs;
    return ms;
  }

  private async open(partition: number): Promise<Owned> {
    const owned = await this.states.open(partition);
    this.owned.set(partition, owned);
    this.outbox.deliver(partition, owned);
    return owned;
  }
}
