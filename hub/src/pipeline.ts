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
  private assigned: number[] = [];
  private loading: Promise<Map<number, Checkpoint>> | undefined;
  /** Per partition: batches and checkpoint rewrites, one at a time. */
  private chains = new Map<number, Promise<unknown>>();
  /** Notification keys this process delivered or is delivering (bounded). */
  private sent = new Set<string>();
  /** Per owned partition: when (wall clock) it was assigned or last processed a batch. */
  private activity = new Map<number, number>();
  private delivered = new Set<string>();

  constructor(private readonly options: PipelineOptions) {}

  /** A rebalance: whatever we held may have moved on elsewhere; start again from checkpoints. */
  assign(partitions: number[]): void {
    this.owned.clear();
    this.saved.clear();
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

  handle(batch: SourceBatch): Promise<void> {
    return this.serially(batch.partition, async () => {
      try {
        await this.apply(batch);
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
   * Sends the checkpointed notifications, at most once across crashes: first the checkpoint is
   * rewritten with them marked `attempted`, then they are sent, then rewritten without them. A
   * hub that finds `attempted` ones in a checkpoint it opens does not send them again (they are
   * logged as possibly undelivered), so a crash never repeats a message; it can lose the ones
   * it was sending at that moment (see hub/docs/architecture.md). Rebalances lose nothing: the
   * hub that began sending goes on.
   */
  private deliver(partition: number, owned: Owned): void {
    const notifier = this.options.notifier;
    const saved = this.saved.get(partition);
    if (!notifier || !saved) return;
    const fresh = owned.pending.filter((n) => !this.sent.has(n.key));
    if (fresh.length === 0) return;
    for (const n of fresh) this.sent.add(n.key);
    const keys = new Set(fresh.map((n) => n.key));
    const mark = (list: Notification[]) =>
      list.map((n) => (keys.has(n.key) ? { ...n, attempted: true } : n));
    owned.pending = mark(owned.pending);
    this.enqueueCheckpoint(partition, { ...saved, pending: mark(saved.pending ?? []) }).then(
      () => {
        for (const n of fresh) this.send(notifier, partition, owned, n);
      },
      (err: unknown) => {
        // Not marked, so not sent: the next batch's checkpoint carries them and tries again.
        for (const n of fresh) this.sent.delete(n.key);
        owned.pending = owned.pending.map((n) =>
          keys.has(n.key) ? { ...n, attempted: false } : n,
        );
        this.options.log.warn({ err, partition }, 'checkpoint before notifications failed');
      },
    );
  }

  private send(notifier: Notifier, partition: number, owned: Owned, n: Notification): void {
    const done = (ok: boolean) => {
      if (ok) this.counters.notifications += 1;
      else this.counters.notificationFailures += 1;
      this.delivered.add(n.key);
      if (this.delivered.size > 10_000)
        this.delivered.delete(this.delivered.values().next().value as string);
      const current = this.owned.get(partition) ?? owned;
      current.pending = current.pending.filter((p) => p.key !== n.key);
      const saved = this.saved.get(partition);
      if (!saved?.pending?.some((p) => p.key === n.key)) return;
      this.enqueueCheckpoint(partition, {
        ...saved,
        pending: saved.pending.filter((p) => !this.delivered.has(p.key)),
      }).catch((err: unknown) =>
        this.options.log.warn({ err, partition }, 'checkpoint after notification failed'),
      );
    };
    notifier.notify({ key: n.key, text: n.text }).then(
      () => done(true),
      () => done(false),
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

  private async apply(batch: SourceBatch): Promise<void> {
    const { partition } = batch;
    const owned = this.owned.get(partition) ?? (await this.open(partition));
    if (this.activity.has(partition)) this.activity.set(partition, Date.now());
    const covered = BigInt(owned.offset);
    const records = batch.records.filter((r) => BigInt(r.offset) > covered);
    const invalid = batch.invalid.filter((r) => BigInt(r.offset) > covered);
    if (BigInt(batch.lastOffset) <= covered) return; // already in the checkpoint
    const out = owned.processor.process(inLogOrder(records, batch.ticks ?? [], covered));
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
    const pending = [...owned.pending, ...fresh].filter((n) => !this.delivered.has(n.key));
    const checkpoint: Checkpoint = {
      v: 1,
      offset: batch.lastOffset,
      state: owned.processor.snapshot(),
      pending,
    };
    await this.enqueueCheckpoint(partition, checkpoint);
    owned.offset = batch.lastOffset;
    owned.pending = pending;
    this.deliver(partition, owned);
    const c = this.counters;
    c.readings += out.readings.length;
    c.duplicates += out.duplicates;
    c.tooLate += out.tooLate.length;
    c.invalid += invalid.length;
    c.aggregates += out.aggregates.length;
    c.episodeEvents += out.events.length;
    c.checkpoints += 1;
    c.lag[partition] = Number(BigInt(batch.highWatermark) - BigInt(batch.lastOffset) - 1n);
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
    const owned: Owned = {
      processor,
      offset: checkpoint?.offset ?? '-1',
      pending: this.unsent(partition, checkpoint?.pending ?? []),
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
