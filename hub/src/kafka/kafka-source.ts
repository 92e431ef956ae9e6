import { pinoLogCreator } from '@iot-stream/contracts';
import {
  type Admin,
  type Consumer,
  Kafka,
  type KafkaConfig,
  logLevel as KafkaLogLevel,
} from 'kafkajs';
import type { Logger } from 'pino';
import { BatchesInFlight } from '../kafka-common/batches-in-flight.ts';
import { decodeBatch, hasControlHeader, newSourceCounters } from '../kafka-common/decode-batch.ts';
import { groupTimings } from '../kafka-common/group-timings.ts';
import { PartitionCommits } from '../kafka-common/partition-commits.ts';
import { runBatch } from '../kafka-common/run-batch.ts';
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
  /** A fetch's bytes over all its partitions (kafkajs's maxBytes; default 10 MB, kafkajs's). */
  maxBytesPerFetch?: number;
  /**
   * A partition whose handler left offsets uncheckpointed (so uncommitted) gets a `flush`
   * batch after this long without batches, and what it then covers is committed (default 1000).
   */
  flushAfterMs?: number;
}

/**
 * Consumes readings as a consumer group. A batch's offsets are committed (auto-commit is off)
 * only as far as the handler says its checkpoint covers, after its write succeeded; a failed
 * write is retried with backoff and nothing is committed meanwhile. The handler dead-letters
 * records that fail validation. Offsets processed but not yet checkpointed are committed after
 * a `flush` batch, sent when the partition had no batch for `flushAfterMs`; a rebalance cancels
 * pending flushes (the next owner starts from the committed offset and the newest checkpoint).
 *
 * kafkajs fetches again only when every batch of its last fetch returned; a batch's InfluxDB
 * write is mostly waiting, so a batch is handed to the pipeline and left to finish in the
 * background (batches-in-flight.ts) once its fetch position is resolved (auto-resolve is off),
 * and the next fetch goes out meanwhile. A partition's next batch waits for its previous one
 * (which may be retrying: that is the backpressure, the fetch loop waits with it), and batches
 * in flight hold at most `maxBytesPerFetch`. A batch that cannot finish goes back to Kafka:
 * one sent back to a gap seeks there; one whose generation moved on is fetched again from the
 * committed offset.
 *
 * A batch is resolved, committed and followed by a flush only within the consumer generation
 * it was fetched in. kafkajs can rejoin the group while a batch is still in the handler (a
 * fetcher that meets a stale-metadata error, such as a partition's leader moving, rejoins from
 * inside the fetch loop while other brokers' fetchers run their batches); resolving a batch
 * then would move the new generation's fetch position past records the reassigned pipeline
 * never processed. It is resolved at once when its wait for the partition's previous batch
 * ends in the same generation, else left to be fetched again from the committed offset, and
 * the pipeline reopens the partition from its checkpoint.
 */
export class KafkaReadingSource {
  readonly counters: SourceCounters = newSourceCounters();
  connected = false;
  /** Elapsed clock (performance.now) of the last completed fetch, or null before the first. */
  private lastFetchAt: number | null = null;
  private readonly kafka: Kafka;
  private admin: Promise<Admin> | undefined;
  private readonly consumer: Consumer;
  private onAssign: AssignmentListener = () => undefined;
  private handle: BatchHandler = async () => undefined;
  private running = false;
  /** The consumer's heartbeat (as the newest batch gave it), between a batch's retries. */
  private heartbeat: () => Promise<void> = async () => undefined;
  /** Generation-scoped commits and flushes (shared with the @platformatic/kafka source). */
  private readonly commits: PartitionCommits;
  private readonly inFlight: BatchesInFlight;

  constructor(private readonly options: KafkaSourceOptions) {
    this.inFlight = new BatchesInFlight(options.maxBytesPerFetch ?? 10_485_760);
    this.commits = new PartitionCommits({
      log: options.log,
      flushAfterMs: options.flushAfterMs ?? 1000,
      running: () => this.running,
      handle: () => this.handle,
      commitFlush: (offsets) => this.commitOutside(offsets),
    });
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      ...options.connection,
      logLevel: KafkaLogLevel.WARN,
      logCreator: pinoLogCreator(options.log),
    });
    const timings = groupTimings(options.sessionTimeoutMs);
    this.consumer = this.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      // Short fetch waits keep latency low and let a shutdown finish quickly.
      maxWaitTimeInMs: 500,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
      // A partition's records come back in whole producer batches, the first partition's even
      // beyond maxBytesPerPartition: a batch larger than the rest of the fetch's bytes waits
      // for a fetch of its own.
      ...(options.maxBytesPerFetch ? { maxBytes: options.maxBytesPerFetch } : {}),
      sessionTimeout: timings.sessionTimeout,
      heartbeatInterval: timings.heartbeatInterval,
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
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (batch.messages.length === 0) return;
        const { partition } = batch;
        let bytes = 0;
        for (const m of batch.messages) bytes += m.value?.length ?? 0;
        const generation = this.commits.generation;
        // The partition's previous batch first (it may be retrying), and room in memory; the
        // group hears from this member meanwhile (a rebalance it announces ends the wait).
        await this.inFlight.admit(partition, bytes, heartbeat);
        // Stale (a rebalance, or the position moved back to a gap since): fetched again.
        if (!this.running || !isRunning() || isStale() || generation !== this.commits.generation)
          return;
        const decoded = decodeBatch(
          {
            partition,
            lastOffset: batch.lastOffset(),
            highWatermark: batch.highWatermark,
            // kafkajs's Batch keeps the offset its fetch asked for (not in its type declarations).
            fetchedFrom: (batch as { fetchedOffset?: string }).fetchedOffset,
          },
          batch.messages.map((m) => ({
            offset: m.offset,
            key: m.key,
            value: m.value,
            legacyControl: hasControlHeader(m.headers),
          })),
          this.counters,
        );
        // The fetch position moves on now, within the generation that fetched the batch; the
        // batch runs on while the next fetch goes out. Should it fail for good (a gap, a new
        // generation), the seek or the committed offset brings its records back.
        resolveOffset(batch.lastOffset());
        // The batch's closures (kafkajs's) keep its fetched bytes alive: only the newest is kept.
        this.heartbeat = heartbeat;
        const fetched = batch.messages.length;
        this.inFlight.start(partition, bytes, () => this.finish(decoded, generation, fetched));
        await heartbeat();
      },
    });
  }

  /** Runs a batch through the pipeline until processed, then commits what it covers. */
  private async finish(decoded: SourceBatch, generation: number, fetched: number): Promise<void> {
    try {
      const outcome = await runBatch(decoded, {
        handle: this.handle,
        current: () => this.running && generation === this.commits.generation,
        counters: this.counters,
        log: this.options.log,
        backoff: this.options.backoff,
        fetched,
        // The group's session stays alive while a partition's batch is retried.
        between: () => this.heartbeat().catch(() => undefined),
      });
      if ('gap' in outcome) {
        if (generation === this.commits.generation)
          this.consumer.seek({
            topic: this.options.topic,
            partition: outcome.gap.partition,
            offset: outcome.gap.next,
          });
        return;
      }
      if ('stale' in outcome) return;
      await this.commits.settle(generation, decoded, outcome.covered, (offsets) =>
        this.commitOutside(offsets),
      );
    } catch (err) {
      this.options.log.error({ err, partition: decoded.partition }, 'batch handling failed');
    }
  }

  /** Commits offsets outside eachBatch (batches finished in the background, flushes). */
  private commitOutside(offsets: { partition: number; offset: string }[]): Promise<void> {
    return this.consumer.commitOffsets(offsets.map((o) => ({ topic: this.options.topic, ...o })));
  }

  /**
   * Whether the consumer completed a fetch within `withinMs` (the broker answers, even with no
   * records): only then is a partition without records really quiet (Pipeline.punctuateQuiet).
   */
  fetching(withinMs = 5000): boolean {
    return this.lastFetchAt !== null && performance.now() - this.lastFetchAt <= withinMs;
  }

  /** The oldest offset the partition still holds (its log start offset; Pipeline.retainedFrom). */
  async retainedFrom(partition: number): Promise<string> {
    // One admin client, connected at the first question (rare: only past a repeated gap).
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })().catch((err: unknown) => {
      this.admin = undefined;
      throw err;
    });
    const offsets = await (await this.admin).fetchTopicOffsets(this.options.topic);
    const found = offsets.find((o) => o.partition === partition);
    if (!found) throw new Error(`${this.options.topic} has no partition ${partition}`);
    return found.low;
  }

  async stop(): Promise<void> {
    this.running = false;
    // Batches in their write finish it (one retrying gives up: fetched again by the next owner).
    await this.inFlight.drain();
    this.newGeneration();
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
    await this.consumer.disconnect();
  }

  private newGeneration(): void {
    this.commits.newGeneration();
  }
}
