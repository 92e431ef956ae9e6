import { backoffMs, CONTROL_HEADER, decodeRecord, pinoLogCreator } from '@iot-stream/contracts';
import { type Consumer, Kafka, type KafkaConfig, logLevel as KafkaLogLevel } from 'kafkajs';
import type { Logger } from 'pino';
import { SourceGapError } from '../errors.ts';
import type { AssignmentListener, BatchHandler, SourceBatch, SourceCounters } from '../ports.ts';

export interface KafkaSourceOptions {
  brokers: readonly string[];
  /** TLS and SASL (contracts' kafkaSecurityOptions). */
  connection?: Pick<KafkaConfig, 'ssl' | 'sasl'>;
  clientId: string;
  groupId: string;
  topic: string;
  deadLetterTopic: string;
  log: Logger;
  backoff?: { minMs: number; maxMs: number };
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  /**
   * A partition whose handler left offsets uncheckpointed (so uncommitted) gets a `flush`
   * batch after this long without batches, and what it then covers is committed (default 1000).
   */
  flushAfterMs?: number;
}

/**
 * Consumes readings as a consumer group. A batch's offsets are resolved only after the
 * handler's write succeeded (auto-resolve is off), and committed (auto-commit is off) only as
 * far as the handler says its checkpoint covers; a failed write is retried with backoff and
 * nothing is committed meanwhile, which is also the backpressure: a partition is not fetched
 * further while its batch waits for the writer. The handler dead-letters records that fail
 * validation. Offsets processed but not yet checkpointed are committed after a `flush` batch,
 * sent when the partition had no batch for `flushAfterMs`; a rebalance cancels pending flushes
 * (the next owner starts from the committed offset and the newest checkpoint).
 *
 * A batch is resolved, committed and followed by a flush only within the consumer generation
 * it was fetched in. kafkajs can rejoin the group while a batch is still in the handler (a
 * fetcher that meets a stale-metadata error, such as a partition's leader moving, rejoins from
 * inside the fetch loop while other brokers' fetchers run their batches); that batch's
 * resolveOffset would then move the new generation's fetch position past records the
 * reassigned pipeline never processed. Left unresolved, the records are fetched again from the
 * committed offset, and the pipeline reopens the partition from its checkpoint.
 */
export class KafkaReadingSource {
  readonly counters: SourceCounters = {
    records: 0,
    invalid: 0,
    writeFailures: 0,
    batches: 0,
    legacyControl: 0,
  };
  connected = false;
  /** Elapsed clock (performance.now) of the last completed fetch, or null before the first. */
  private lastFetchAt: number | null = null;
  private readonly consumer: Consumer;
  private onAssign: AssignmentListener = () => undefined;
  private handle: BatchHandler = async () => undefined;
  private running = false;
  /** Bumped by every rebalance, crash and stop: flushes of an older one are dropped. */
  private generation = 0;
  /** Per partition, in this generation: the offset last committed (the next to read). */
  private committed = new Map<number, bigint>();
  /** Per partition, in this generation: the furthest batch the handler processed. */
  private processed = new Map<number, SourceBatch>();
  private flushes = new Map<number, NodeJS.Timeout>();

  constructor(private readonly options: KafkaSourceOptions) {
    const kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      ...options.connection,
      logLevel: KafkaLogLevel.WARN,
      logCreator: pinoLogCreator(options.log),
    });
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      // Short fetch waits keep latency low and let a shutdown finish quickly.
      maxWaitTimeInMs: 500,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: Math.floor((options.sessionTimeoutMs ?? 30_000) / 10),
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.newGeneration();
      this.connected = true;
      const assigned = e.payload.memberAssignment[options.topic] ?? [];
      this.onAssign([...assigned].sort((x, y) => x - y));
      options.log.info(
        { memberId: e.payload.memberId, assignment: e.payload.memberAssignment },
        'joined consumer group',
      );
    });
    this.consumer.on(this.consumer.events.FETCH, () => {
      this.lastFetchAt = performance.now();
    });
    this.consumer.on(this.consumer.events.REBALANCING, () => this.newGeneration());
    this.consumer.on(this.consumer.events.STOP, () => this.newGeneration());
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.newGeneration();
      this.connected = false;
      options.log.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
    });
  }

  async start(handle: BatchHandler, onAssign: AssignmentListener): Promise<void> {
    this.onAssign = onAssign;
    this.handle = handle;
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    this.running = true;
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: false, // commits are explicit: only what the handler's checkpoint covers
      // All partitions of a fetch at once: one's CPU work overlaps another's InfluxDB wait.
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 8,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        commitOffsetsIfNecessary,
        isRunning,
        isStale,
      }) => {
        if (batch.messages.length === 0) return;
        const generation = this.generation;
        const decoded: SourceBatch = {
          partition: batch.partition,
          lastOffset: batch.lastOffset(),
          highWatermark: batch.highWatermark,
          records: [],
          invalid: [],
          // kafkajs's Batch keeps the offset its fetch asked for (not in its type declarations).
          fetchedFrom: (batch as { fetchedOffset?: string }).fetchedOffset,
        };
        for (const m of batch.messages) {
          if (m.headers?.[CONTROL_HEADER] !== undefined) {
            this.counters.legacyControl += 1; // a tick an older hub wrote: not a reading
            continue;
          }
          const d = decodeRecord(m.value);
          if (d.ok) decoded.records.push({ offset: m.offset, record: d.record });
          else
            decoded.invalid.push({
              offset: m.offset,
              value: m.value,
              key: m.key,
              code: d.code,
              reason: d.reason,
            });
        }
        let covered: string;
        for (let attempt = 1; ; attempt += 1) {
          // Uncommitted and unresolved: fetched again from the committed offset.
          if (!isRunning() || isStale() || generation !== this.generation) return;
          try {
            const result = await handle(decoded);
            covered = typeof result === 'string' ? result : decoded.lastOffset;
            break;
          } catch (err) {
            if (err instanceof SourceGapError) {
              // Fetched past records the partition's state lacks: fetch again from there.
              this.options.log.warn(
                { err, partition: batch.partition },
                'batch fetched past what the partition state holds: fetching again from there',
              );
              if (generation === this.generation)
                this.consumer.seek({
                  topic: this.options.topic,
                  partition: err.partition,
                  offset: err.next,
                });
              return;
            }
            this.counters.writeFailures += 1;
            const delay = backoffMs(attempt, {
              ...(this.options.backoff ?? { minMs: 200, maxMs: 10_000 }),
              random: Math.random,
            });
            this.options.log.warn(
              { err, partition: batch.partition, retryInMs: delay },
              'write failed; retrying batch',
            );
            await new Promise((r) => setTimeout(r, delay));
            await heartbeat();
          }
        }
        if (generation !== this.generation) {
          // Rejoined meanwhile: resolving now would skip these records in the new generation.
          this.options.log.info(
            { partition: batch.partition, lastOffset: decoded.lastOffset },
            'batch outlived its consumer generation: left to be fetched again',
          );
          return;
        }
        this.counters.batches += 1;
        this.counters.records += batch.messages.length;
        this.counters.invalid += decoded.invalid.length;
        resolveOffset(batch.lastOffset()); // the fetch position moves on in any case
        await this.commit(generation, batch.partition, covered, (offsets) =>
          commitOffsetsIfNecessary({
            topics: [{ topic: this.options.topic, partitions: offsets }],
          }),
        );
        this.scheduleFlush(generation, batch.partition, covered, decoded);
        await heartbeat();
      },
    });
  }

  /**
   * Whether the consumer completed a fetch within `withinMs` (the broker answers, even with no
   * records): only then is a partition without records really quiet (Pipeline.punctuateQuiet).
   */
  fetching(withinMs = 5000): boolean {
    return this.lastFetchAt !== null && performance.now() - this.lastFetchAt <= withinMs;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.newGeneration();
    await this.consumer.disconnect();
  }

  private newGeneration(): void {
    this.generation += 1;
    this.committed.clear();
    this.processed.clear();
    for (const timer of this.flushes.values()) clearTimeout(timer);
    this.flushes.clear();
  }

  /**
   * Commits `covered` + 1 unless already, and only within `generation`: after a rebalance the
   * partition may be someone else's, and a commit would then move their position. A failure
   * is logged (a later commit catches up).
   */
  private async commit(
    generation: number,
    partition: number,
    covered: string,
    send: (offsets: { partition: number; offset: string }[]) => Promise<unknown>,
  ): Promise<void> {
    const next = BigInt(covered) + 1n;
    if (!this.running || generation !== this.generation) return;
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
    if (!this.running || generation !== this.generation) return;
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
    }, this.options.flushAfterMs ?? 1000);
    timer.unref();
    this.flushes.set(partition, timer);
  }

  private async flush(partition: number, generation: number, last: SourceBatch): Promise<void> {
    if (!this.running || generation !== this.generation) return;
    const batch: SourceBatch = { ...last, records: [], invalid: [], flush: true };
    try {
      const result = await this.handle(batch);
      const covered = typeof result === 'string' ? result : last.lastOffset;
      await this.commit(generation, partition, covered, (offsets) =>
        this.consumer.commitOffsets(offsets.map((o) => ({ topic: this.options.topic, ...o }))),
      );
      this.scheduleFlush(generation, partition, covered, last);
    } catch (err) {
      this.options.log.warn({ err, partition }, 'flush of uncheckpointed offsets failed');
      this.scheduleFlush(generation, partition, '-1', last);
    }
  }
}
