import type { ReadingRecord } from '@iot-stream/contracts';
import type { Message } from 'kafkajs';
import type { Logger } from 'pino';
import type { TransitionType } from './detect/episodes.ts';
import type { BatchOutput } from './influx-store.ts';
import type { SourceBatch } from './kafka/kafka-source.ts';
import { deadLetter, episodeMessage } from './kafka/messages.ts';
import type { KafkaPublisher } from './kafka/publisher.ts';
import { type Notification, notificationsOf } from './notify/notifications.ts';
import type { Notifier } from './notify/webhook.ts';
import type { Checkpoint, CheckpointStore } from './ports.ts';
import {
  type PartitionOutput,
  PartitionProcessor,
  type PartitionProcessorOptions,
  type PartitionTick,
} from './stream/partition-processor.ts';

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
  tooLate: number;
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
}

interface Owned {
  processor: PartitionProcessor;
  /** Last offset reflected in the processor (inclusive); '-1' for none. */
  offset: string;
  /** Checkpointed notifications not yet delivered. */
  pending: Notification[];
  /** Wall clock of the last checkpoint (or of opening), and records processed since. */
  checkpointedAt: number;
  sinceCheckpoint: number;
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
  };
  private owned = new Map<number, Owned>();
  private saved = new Map<number, Checkpoint>();
  private uncheckpointed = new Map<number, Uncheckpointed>();
  private assigned: number[] = [];
  private loading: Promise<Map<number, Checkpoint>> | undefined;
  /** Per partition: batches and checkpoint rewrites, one at a time. */
  private chains = new Map<number, Promise<unknown>>();
  /** Notification keys this process delivered or is delivering (bounded). */
  private sent = new Set<string>();
  /** Per partition: the chain of notifications being delivered, one at a time. */
  private delivering = new Map<number, Promise<void>>();
  /** Per owned partition: when (wall clock) it was assigned or last processed a batch. */
  private activity = new Map<number, number>();
  private delivered = new Set<string>();

  constructor(private readonly options: PipelineOptions) {}

  /** A rebalance: whatever we held may have moved on elsewhere; start again from checkpoints. */
  assign(partitions: number[]): void {
    this.owned.clear();
    this.saved.clear();
    this.uncheckpointed.clear();
    this.loading = undefined;
    this.assigned = partitions;
    this.counters.lag = {};
    this.counters.partitions = partitions.length;
    this.activity = new Map(partitions.map((p) => [p, Date.now()]));
    this.chains.clear();
    // `sent` and `delivered` survive a rebalance: a partition that stays here must not
    // re-send what this process already sent.
  }

  /** Owned partitions that processed no batch for `quietMs` (see kafka/idle-ticker.ts). */
  quietPartitions(now: number, quietMs: number): number[] {
    return [...this.activity].filter(([, at]) => now - at >= quietMs).map(([p]) => p);
  }

  /** Resolves with the last offset of the partition its checkpoint covers ('-1': none). */
  handle(batch: SourceBatch): Promise<string> {
    return this.serially(batch.partition, async () => {
      try {
        return await this.apply(batch);
      } catch (err) {
        this.owned.delete(batch.partition);
        throw err;
      }
    });
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
    const fresh = owned.pending.filter((n) => !this.sent.has(n.key));
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
    if (this.activity.has(partition)) this.activity.set(partition, Date.now());
    const covered = BigInt(owned.offset);
    const records = batch.records.filter((r) => BigInt(r.offset) > covered);
    const invalid = batch.invalid.filter((r) => BigInt(r.offset) > covered);
    if (BigInt(batch.lastOffset) <= covered) return this.checkpointed(partition); // done before
    const inputs = inLogOrder(records, batch.ticks ?? [], covered);
    const out = owned.processor.process(inputs);
    const writeStart = performance.now();
    await this.options.store.writeBatch(out);
    const writeMs = performance.now() - writeStart;
    this.counters.writes += 1;
    this.counters.writeMs += writeMs;
    this.counters.writeMsMax = Math.max(this.counters.writeMsMax, writeMs);
    this.options.onWritten?.(out, Date.now());
    const { topics, publisher } = this.options;
    const dead: Message[] = [
      ...invalid.map((i) =>
        deadLetter(i.key, i.value, i.code, i.reason, topics.source, partition, i.offset),
      ),
      ...out.tooLate.map((t) =>
        deadLetter(
          t.record.deviceId,
          JSON.stringify(t.record),
          t.tooLate.code,
          t.tooLate.reason,
          topics.source,
          partition,
        ),
      ),
    ];
    for (const i of invalid)
      this.options.log.error(
        { partition, offset: i.offset, code: i.code, reason: i.reason },
        'invalid record sent to dead-letter topic',
      );
    await publisher.send(topics.deadLetter, dead);
    await publisher.send(topics.anomalies, out.events.map(episodeMessage));
    const fresh = this.options.notifier
      ? notificationsOf(out.events, this.options.notifyOn ?? ['opened', 'renotify', 'closed'])
      : [];
    const every = this.options.checkpointEvery;
    owned.sinceCheckpoint += batch.records.length + batch.invalid.length;
    const due =
      every === undefined ||
      fresh.length > 0 ||
      owned.sinceCheckpoint >= every.records ||
      Date.now() - owned.checkpointedAt >= every.ms;
    if (due) {
      const pending = [...owned.pending, ...fresh].filter((n) => !this.delivered.has(n.key));
      await this.checkpoint(partition, owned, batch.lastOffset, pending);
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
      log.offset = batch.lastOffset;
      log.records = owned.sinceCheckpoint;
      this.uncheckpointed.set(partition, log);
      owned.offset = batch.lastOffset;
    }
    const c = this.counters;
    c.readings += out.readings.length;
    c.duplicates += out.duplicates;
    c.tooLate += out.tooLate.length;
    c.invalid += invalid.length;
    c.aggregates += out.aggregates.length;
    c.episodeEvents += out.events.length;
    c.lag[partition] = Number(BigInt(batch.highWatermark) - BigInt(batch.lastOffset) - 1n);
    return this.checkpointed(partition);
  }

  /** Checkpoints what the processor holds beyond the last checkpoint (the source's timer). */
  private async flush(partition: number, owned: Owned): Promise<string> {
    if (owned.offset !== this.checkpointed(partition))
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
    await this.enqueueCheckpoint(partition, { v: 1, offset, state, pending });
    this.uncheckpointed.delete(partition);
    owned.offset = offset;
    owned.pending = pending;
    owned.checkpointedAt = Date.now();
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
      checkpointedAt: log?.since ?? Date.now(),
      sinceCheckpoint: log?.records ?? 0,
    };
    this.owned.set(partition, owned);
    this.deliver(partition, owned);
    this.options.log.info({ partition, offset: owned.offset }, 'partition opened from checkpoint');
    return owned;
  }
}

/** Readings and the ticks after `covered`, merged in offset order. */
function inLogOrder(
  records: SourceBatch['records'],
  ticks: NonNullable<SourceBatch['ticks']>,
  covered: bigint,
): (ReadingRecord | PartitionTick)[] {
  const fresh = ticks.filter((t) => BigInt(t.offset) > covered);
  if (fresh.length === 0) return records.map((r) => r.record);
  const out: (ReadingRecord | PartitionTick)[] = [];
  let i = 0;
  for (const t of fresh) {
    const at = BigInt(t.offset);
    while (i < records.length && BigInt((records[i] as (typeof records)[number]).offset) < at)
      out.push((records[i++] as (typeof records)[number]).record);
    out.push({ tick: t.time });
  }
  while (i < records.length) out.push((records[i++] as (typeof records)[number]).record);
  return out;
}
