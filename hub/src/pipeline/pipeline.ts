import { IotError, type ReadingRecord } from '@iot-stream/contracts';
import type { Message } from 'kafkajs';
import type { Logger } from 'pino';
import type { TransitionType } from '../detect/episodes.ts';
import { deadLetter, episodeMessage } from '../kafka/messages.ts';
import type { KafkaPublisher } from '../kafka/publisher.ts';
import { type Notification, notificationsOf } from '../notify/notifications.ts';
import type { Notifier } from '../notify/webhook.ts';
import type { BatchOutput, Checkpoint, CheckpointStore, SourceBatch } from '../ports.ts';
import {
  type PartitionOutput,
  PartitionProcessor,
  type PartitionProcessorOptions,
  type PartitionTick,
} from '../processing/partition-processor.ts';
import { writeIsolating } from './batch-writer.ts';

export interface PipelineOptions {
  processor: PartitionProcessorOptions;
  store: { writeBatch(batch: BatchOutput): Promise<void> };
  publisher: Pick<KafkaPublisher, 'send'>;
  checkpoints: CheckpointStore;
  topics: { source: string; deadLetter: string; anomalies: string };
  log: Logger;
  /** Webhook; undefined: no notifications. */
  notifier?: Notifier | undefined;
  notifyOn?: readonly TransitionType[];
  /** Send again what a crashed hub had begun sending (may repeat a message; default: not). */
  resendAttempted?: boolean;
  /** Told when a batch's outputs were acknowledged by InfluxDB (benchmarks, tests). */
  onWritten?: (out: PartitionOutput, ackedAt: number) => void;
  /**
   * A clock for elapsed time only (checkpoint cadence, quiet partitions, punctuation): never
   * compared with the records' times, so the hub's wall clock may be off by any amount.
   * Default: performance.now() (monotonic).
   */
  elapsed?: () => number;
  /**
   * Whether the source is fetching (it answered recently). A partition is punctuated only then:
   * a hub cut off from Kafka must not take the silence for quiet devices.
   */
  live?: () => boolean;
  /**
   * Checkpoint a partition only once this much wall time passed or this many records were
   * processed since its last checkpoint (or when a batch has notifications, or the source asks
   * for a `flush`); undefined: after every batch. `handle` resolves with the offset the
   * checkpoint covers, and only that may be committed (kafka-source.ts does).
   */
  checkpointEvery?: { ms: number; records: number };
}

export interface PipelineCounters {
  readings: number;
  duplicates: number;
  /** Readings too late for their windows: stored raw, not aggregated. */
  tooLate: number;
  /** Readings refused by the processor (clock faults, TIME_AHEAD): dead-lettered. */
  rejected: number;
  invalid: number;
  aggregates: number;
  episodeEvents: number;
  checkpoints: number;
  gatewayStatus: number;
  notifications: number;
  notificationFailures: number;
  /** Notifications a stopped hub had begun sending, not sent again (possibly undelivered). */
  notificationsUncertain: number;
  /** Per partition: records behind the high watermark after the last batch. */
  lag: Record<string, number>;
  /** Partitions assigned to this hub. */
  partitions: number;
  /** InfluxDB batch writes acknowledged, their total and (since the last reset) maximum time. */
  writes: number;
  writeMs: number;
  writeMsMax: number;
  /** Readings dead-lettered because the store refused them (isolated from their batch). */
  writeRejected: number;
  /** Aggregates and episode events the store refused (logged). */
  writeRejectedDerived: number;
  /** Batch writes that failed and are being retried (outages). */
  writeFailures: number;
  /** Punctuations applied to quiet partitions (their time moved on without records). */
  punctuations: number;
}

/** A partition whose last write failed, and since when (the source retries it). */
export interface FailingPartition {
  partition: number;
  /** Wall clock of the first failure in a row, epoch ms. */
  since: number;
  /** The error's stable code (the message, which may name internal hosts, is only logged). */
  code: string;
}

interface Owned {
  processor: PartitionProcessor;
  /** Last offset reflected in the processor (inclusive); '-1' for none. */
  offset: string;
  /** Checkpointed notifications not yet delivered. */
  pending: Notification[];
  /**
   * Punctuations recorded in the opened checkpoint but not in its state (a hub stopped while
   * applying them): applied first, before anything else reaches the processor.
   */
  carry: number[];
  /** Elapsed clock of the last checkpoint (or of opening), and records processed since. */
  checkpointedAt: number;
  sinceCheckpoint: number;
  /** Elapsed clock when records last reached the processor (or it was opened). */
  lastInputAt: number;
  /** Records behind the high watermark after the last batch. */
  lag: number;
}

/**
 * What a partition processed after its checkpoint (`saved`), all of it written and sent: the
 * inputs in order and the last offset they cover. After a failed batch the processor is
 * rebuilt from the checkpoint plus these, since the source does not deliver them again.
 */
interface Uncheckpointed {
  inputs: (ReadingRecord | PartitionTick)[][];
  offset: string;
  /** Records of those batches, and when the checkpoint they follow was written. */
  records: number;
  since: number;
}

/**
 * Per partition: process a batch with the partition's stream core, write raw readings,
 * aggregates and episodes to InfluxDB, dead-letter invalid and too-late records, publish
 * episode events, then checkpoint the core with the last offset it covers. Only after all of
 * that resolves does the source commit the offsets. A batch that fails anywhere is redone from
 * the last checkpoint (kept in memory, else loaded), so a retry never sees a half-applied core.
 */
export class Pipeline {
  readonly counters: PipelineCounters = {
    readings: 0,
    duplicates: 0,
    tooLate: 0,
    rejected: 0,
    invalid: 0,
    aggregates: 0,
    episodeEvents: 0,
    checkpoints: 0,
    gatewayStatus: 0,
    notifications: 0,
    notificationFailures: 0,
    notificationsUncertain: 0,
    lag: {},
    partitions: 0,
    writes: 0,
    writeMs: 0,
    writeMsMax: 0,
    writeRejected: 0,
    writeRejectedDerived: 0,
    writeFailures: 0,
    punctuations: 0,
  };
  private owned = new Map<number, Owned>();
  private saved = new Map<number, Checkpoint>();
  private uncheckpointed = new Map<number, Uncheckpointed>();
  private assigned: number[] = [];
  private loading: Promise<Map<number, Checkpoint>> | undefined;
  /** Per partition: batches and checkpoint rewrites, one at a time. */
  private chains = new Map<number, Promise<unknown>>();
  /**
   * Notification keys being delivered by this process: queued or in flight, removed once
   * delivered (then `delivered` has them), so bounded by what is queued.
   */
  private sent = new Set<string>();
  /** Per partition: the chain of notifications being delivered, one at a time. */
  private delivering = new Map<number, Promise<void>>();
  /** Keys of notifications delivered (or given up) by this process: the newest 10,000. */
  private delivered = new Set<string>();
  /** Partitions whose last write failed (retried by the source). */
  private failing = new Map<number, FailingPartition>();
  /** Bumped by every assignment: work of an older one must not write checkpoints. */
  private generation = 0;
  private readonly elapsed: () => number;

  constructor(private readonly options: PipelineOptions) {
    this.elapsed = options.elapsed ?? (() => performance.now());
  }

  /** Notifications queued or being sent now (bounded by the queue; see `sent`). */
  get notificationsInFlight(): number {
    return this.sent.size;
  }

  /** Partitions whose writes are failing now (empty when all is well): for /api/health. */
  failingPartitions(): FailingPartition[] {
    return [...this.failing.values()];
  }

  /** A rebalance: whatever we held may have moved on elsewhere; start again from checkpoints. */
  assign(partitions: number[]): void {
    this.owned.clear();
    this.saved.clear();
    this.uncheckpointed.clear();
    this.loading = undefined;
    this.assigned = partitions;
    this.counters.lag = {};
    this.counters.partitions = partitions.length;
    this.failing.clear();
    this.generation += 1;
    this.chains.clear();
    // `sent` and `delivered` survive a rebalance: a partition that stays here must not
    // re-send what this process already sent.
  }

  /** Resolves with the last offset of the partition its checkpoint covers ('-1': none). */
  handle(batch: SourceBatch): Promise<string> {
    return this.serially(batch.partition, async () => {
      try {
        const covered = await this.apply(batch);
        this.failing.delete(batch.partition);
        return covered;
      } catch (err) {
        this.owned.delete(batch.partition);
        this.counters.writeFailures += 1;
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
      await this.checkpoint(partition, owned, owned.offset, owned.pending);
      if (generation !== this.generation) return false;
      await this.effects(partition, owned, [], this.takeCarry(owned), 0);
      this.counters.punctuations += 1;
      return true;
    }).catch((err: unknown) => {
      this.owned.delete(partition); // reopened from the checkpoint, which holds the decision
      throw err;
    });
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

  /**
   * Sends the checkpointed notifications, one at a time per partition and at most once across
   * crashes: before each, the checkpoint is rewritten with it marked `attempted`; after it, the
   * checkpoint is rewritten without it. A hub that finds an `attempted` one in a checkpoint it
   * opens does not send it again (it is logged as possibly undelivered), so a crash never
   * repeats a message; what a crash can cost is the one message in flight per partition (see
   * hub/docs/architecture.md). Rebalances lose nothing: the hub that began sending goes on.
   * One at a time also keeps the order and suits webhooks that rate-limit (Slack: 1/s).
   */
  private deliver(partition: number, owned: Owned): void {
    const notifier = this.options.notifier;
    if (!notifier) return;
    const fresh = owned.pending.filter((n) => !this.sent.has(n.key) && !this.delivered.has(n.key));
    if (fresh.length === 0) return;
    for (const n of fresh) this.sent.add(n.key);
    let queue = this.delivering.get(partition) ?? Promise.resolve();
    for (const n of fresh) queue = queue.then(() => this.deliverOne(notifier, partition, owned, n));
    this.delivering.set(partition, queue);
  }

  private async deliverOne(
    notifier: Notifier,
    partition: number,
    owned: Owned,
    n: Notification,
  ): Promise<void> {
    const saved = this.saved.get(partition);
    if (!saved) {
      this.sent.delete(n.key); // the partition moved (rebalance): its next owner sends it
      return;
    }
    // Marked in memory first, so no later checkpoint of this partition can drop the mark.
    const mark = (list: Notification[]) =>
      list.map((p) => (p.key === n.key ? { ...p, attempted: true } : p));
    const current = this.owned.get(partition) ?? owned;
    current.pending = mark(current.pending);
    try {
      await this.enqueueCheckpoint(partition, { ...saved, pending: mark(saved.pending ?? []) });
    } catch (err) {
      // Not marked durably, so not sent: the next checkpoint carries it and delivery retries.
      this.sent.delete(n.key);
      current.pending = current.pending.map((p) =>
        p.key === n.key ? { ...p, attempted: false } : p,
      );
      this.options.log.warn({ err, partition }, 'checkpoint before a notification failed');
      return;
    }
    const ok = await notifier.notify({ key: n.key, text: n.text }).then(
      () => true,
      () => false,
    );
    if (ok) this.counters.notifications += 1;
    else this.counters.notificationFailures += 1;
    this.delivered.add(n.key);
    this.sent.delete(n.key); // `delivered` remembers it from here on
    if (this.delivered.size > 10_000)
      this.delivered.delete(this.delivered.values().next().value as string);
    const now = this.owned.get(partition) ?? owned;
    now.pending = now.pending.filter((p) => p.key !== n.key);
    const latest = this.saved.get(partition);
    if (!latest?.pending?.some((p) => p.key === n.key)) return;
    await this.enqueueCheckpoint(partition, {
      ...latest,
      pending: latest.pending.filter((p) => !this.delivered.has(p.key)),
    }).catch((err: unknown) =>
      this.options.log.warn({ err, partition }, 'checkpoint after a notification failed'),
    );
  }

  /**
   * Pending notifications of a checkpoint being opened: those another run began sending are
   * not sent again (unless `resendAttempted`), but logged and counted as possibly undelivered.
   */
  private unsent(partition: number, pending: readonly Notification[]): Notification[] {
    const out: Notification[] = [];
    for (const n of pending) {
      if (this.delivered.has(n.key)) continue;
      if (n.attempted && !this.sent.has(n.key) && !this.options.resendAttempted) {
        this.counters.notificationsUncertain += 1;
        this.delivered.add(n.key);
        this.options.log.warn(
          { partition, key: n.key, text: n.text },
          'notification possibly undelivered: a hub stopped while sending it; not sent again',
        );
        continue;
      }
      out.push(n);
    }
    return out;
  }

  /**
   * Checkpoint writes go out in call order (one producer queue), and `saved` is the newest
   * enqueued one, so a rewrite after a notification never overtakes a newer batch checkpoint.
   */
  private enqueueCheckpoint(partition: number, checkpoint: Checkpoint): Promise<void> {
    this.saved.set(partition, checkpoint);
    return this.options.checkpoints.save(partition, checkpoint);
  }

  private async apply(batch: SourceBatch): Promise<string> {
    const { partition } = batch;
    const owned = this.owned.get(partition) ?? (await this.open(partition));
    if (batch.flush) return this.flush(partition, owned);
    const covered = BigInt(owned.offset);
    const records = batch.records.filter((r) => BigInt(r.offset) > covered);
    const invalid = batch.invalid.filter((r) => BigInt(r.offset) > covered);
    if (BigInt(batch.lastOffset) <= covered) return this.checkpointed(partition); // done before
    owned.lastInputAt = this.elapsed();
    owned.lag = Number(BigInt(batch.highWatermark) - BigInt(batch.lastOffset) - 1n);
    const inputs = [...this.takeCarry(owned), ...records.map((r) => r.record)];
    const dead = invalid.map((i) =>
      deadLetter(i.key, i.value, i.code, i.reason, this.options.topics.source, partition, i.offset),
    );
    for (const i of invalid)
      this.options.log.error(
        { partition, offset: i.offset, code: i.code, reason: i.reason },
        'invalid record sent to dead-letter topic',
      );
    await this.effects(
      partition,
      owned,
      dead,
      inputs,
      batch.records.length + batch.invalid.length,
      {
        lastOffset: batch.lastOffset,
      },
    );
    const c = this.counters;
    c.invalid += invalid.length;
    c.lag[partition] = owned.lag;
    return this.checkpointed(partition);
  }

  /**
   * Runs inputs through the partition's processor and carries out what they produced: writes
   * (isolating what the store refuses), dead letters, episode events; then checkpoints when due
   * (a punctuation always: `lastOffset` absent) and starts delivering new notifications.
   */
  private async effects(
    partition: number,
    owned: Owned,
    dead: Message[],
    inputs: (ReadingRecord | PartitionTick)[],
    records: number,
    batch?: { lastOffset: string },
  ): Promise<void> {
    const out = owned.processor.process(inputs);
    const writeStart = performance.now();
    const written = await writeIsolating((b) => this.options.store.writeBatch(b), out);
    const writeMs = performance.now() - writeStart;
    this.counters.writes += 1;
    this.counters.writeMs += writeMs;
    this.counters.writeMsMax = Math.max(this.counters.writeMsMax, writeMs);
    this.options.onWritten?.(out, Date.now());
    const { topics, publisher, log } = this.options;
    for (const r of out.rejected) {
      dead.push(
        deadLetter(
          r.record.deviceId,
          JSON.stringify(r.record),
          r.code,
          r.reason,
          topics.source,
          partition,
        ),
      );
      log.warn(
        { partition, deviceId: r.record.deviceId, code: r.code, reason: r.reason },
        'reading rejected: dead-lettered',
      );
    }
    for (const r of written.rejected) {
      dead.push(
        deadLetter(
          r.record.deviceId,
          JSON.stringify(r.record),
          'STORE_REJECTED',
          r.reason,
          topics.source,
          partition,
        ),
      );
      log.error(
        { partition, deviceId: r.record.deviceId, reason: r.reason },
        'the store refused a reading: dead-lettered',
      );
    }
    if (written.rejectedDerived > 0)
      log.error(
        { partition, n: written.rejectedDerived },
        'the store refused aggregates or episode points; left out',
      );
    for (const t of out.tooLate)
      log.debug(
        { partition, deviceId: t.record.deviceId, reason: t.tooLate.reason },
        'reading too late for its windows: stored raw, not aggregated',
      );
    await publisher.send(topics.deadLetter, dead);
    await publisher.send(topics.anomalies, out.events.map(episodeMessage));
    const fresh = this.options.notifier
      ? notificationsOf(out.events, this.options.notifyOn ?? ['opened', 'renotify', 'closed'])
      : [];
    const every = this.options.checkpointEvery;
    owned.sinceCheckpoint += records;
    const lastOffset = batch?.lastOffset ?? owned.offset;
    const due =
      batch === undefined ||
      every === undefined ||
      fresh.length > 0 ||
      owned.sinceCheckpoint >= every.records ||
      this.elapsed() - owned.checkpointedAt >= every.ms;
    if (due) {
      const pending = [...owned.pending, ...fresh].filter((n) => !this.delivered.has(n.key));
      await this.checkpoint(partition, owned, lastOffset, pending);
      this.deliver(partition, owned);
    } else {
      // Written and sent, not checkpointed: kept to rebuild the processor after a failure.
      const log = this.uncheckpointed.get(partition) ?? {
        inputs: [],
        offset: owned.offset,
        records: 0,
        since: owned.checkpointedAt,
      };
      log.inputs.push(inputs);
      log.offset = lastOffset;
      log.records = owned.sinceCheckpoint;
      this.uncheckpointed.set(partition, log);
      owned.offset = lastOffset;
    }
    const c = this.counters;
    c.readings += out.readings.length - written.rejected.length;
    c.duplicates += out.duplicates;
    c.tooLate += out.tooLate.length;
    c.rejected += out.rejected.length;
    c.writeRejected += written.rejected.length;
    c.writeRejectedDerived += written.rejectedDerived;
    c.aggregates += out.aggregates.length;
    c.episodeEvents += out.events.length;
  }

  /** Checkpoints what the processor holds beyond the last checkpoint (the source's timer). */
  private async flush(partition: number, owned: Owned): Promise<string> {
    if (owned.offset !== this.checkpointed(partition) || owned.carry.length > 0)
      await this.checkpoint(partition, owned, owned.offset, owned.pending);
    return this.checkpointed(partition);
  }

  private async checkpoint(
    partition: number,
    owned: Owned,
    offset: string,
    pending: Notification[],
  ): Promise<void> {
    const state = owned.processor.snapshot();
    const ticks = owned.carry.length > 0 ? { ticks: [...owned.carry] } : {};
    await this.enqueueCheckpoint(partition, { v: 1, offset, state, pending, ...ticks });
    this.uncheckpointed.delete(partition);
    owned.offset = offset;
    owned.pending = pending;
    owned.checkpointedAt = this.elapsed();
    owned.sinceCheckpoint = 0;
    this.counters.checkpoints += 1;
  }

  /** The last offset the partition's newest checkpoint covers; '-1' for none. */
  private checkpointed(partition: number): string {
    return this.saved.get(partition)?.offset ?? '-1';
  }

  private async open(partition: number): Promise<Owned> {
    let checkpoint = this.saved.get(partition);
    if (!checkpoint) {
      let loaded: Map<number, Checkpoint>;
      if (this.assigned.includes(partition)) {
        this.loading ??= this.options.checkpoints.load(this.assigned);
        loaded = await this.loading.catch((err: unknown) => {
          this.loading = undefined;
          throw err;
        });
      } else loaded = await this.options.checkpoints.load([partition]);
      checkpoint = loaded.get(partition);
      if (checkpoint) this.saved.set(partition, checkpoint);
    }
    const processor = new PartitionProcessor(this.options.processor);
    if (checkpoint) processor.restore(checkpoint.state);
    // Batches after the checkpoint that were written but not checkpointed when a later one
    // failed: replayed into the processor (their outputs are already written and sent).
    const log = this.uncheckpointed.get(partition);
    for (const inputs of log?.inputs ?? []) processor.process(inputs);
    const owned: Owned = {
      processor,
      offset: log?.offset ?? checkpoint?.offset ?? '-1',
      pending: this.unsent(partition, checkpoint?.pending ?? []),
      // Replayed inputs above already hold these punctuations when a log was replayed.
      carry: log ? [] : [...(checkpoint?.ticks ?? [])],
      checkpointedAt: log?.since ?? this.elapsed(),
      sinceCheckpoint: log?.records ?? 0,
      lastInputAt: this.elapsed(),
      lag: 0,
    };
    this.owned.set(partition, owned);
    this.deliver(partition, owned);
    this.options.log.info({ partition, offset: owned.offset }, 'partition opened from checkpoint');
    return owned;
  }
}
