import { type Backoff, retry } from '@iot-stream/contracts';
import { Consumer, ListOffsetTimestamps, type MessagesStream } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { decodeBatch, hasControlHeader, newSourceCounters } from '../kafka-common/decode-batch.ts';
import { groupTimings } from '../kafka-common/group-timings.ts';
import { PartitionCommits } from '../kafka-common/partition-commits.ts';
import { runBatch } from '../kafka-common/run-batch.ts';
import type { AssignmentListener, BatchHandler, SourceCounters } from '../ports.ts';
import { consumeCommitted, type PlatformaticConnection } from './connection.ts';
import { FetchTags } from './fetch-tags.ts';
import { type Fetched, PartitionQueues } from './partition-queues.ts';

export interface PlatformaticSourceOptions {
  connection: PlatformaticConnection;
  groupId: string;
  topic: string;
  log: Logger;
  backoff?: Omit<Backoff, 'random'>;
  sessionTimeoutMs?: number;
  /** A batch's size, as kafkajs's fetch size per partition (default 1 MiB). */
  maxBytesPerPartition?: number;
  /** A fetch's bytes over all its partitions (default maxBytesPerPartition). */
  maxBytesPerFetch?: number;
  /** See KafkaSourceOptions.flushAfterMs (default 1000). */
  flushAfterMs?: number;
  /** Fetched bytes held for the pipeline before fetching pauses (default 2 x the larger limit). */
  maxQueuedBytes?: number;
}

/**
 * The readings as a consumer group through @platformatic/kafka, with the semantics of
 * KafkaReadingSource (kafka/kafka-source.ts) and the same shared parts: batches per partition
 * (decoded by decode-batch.ts), handed to the pipeline one at a time per partition and retried
 * until processed (run-batch.ts), committed only as far as the returned checkpoint covers and
 * only in the generation that fetched them, flush batches on a timer (partition-commits.ts).
 *
 * The library's stream delivers message by message and fetches on while the pipeline works;
 * records wait per partition (partition-queues.ts; fetching pauses beyond `maxQueuedBytes`),
 * and what waits when a batch is taken becomes the next batch. Each record is known by the fetch that brought
 * it (fetch-tags.ts): records of a fetch issued before the latest rebalance are dropped (the
 * stream fetches again from the committed offsets), and `fetchedFrom` is the offset that fetch
 * asked for, so the pipeline sees a skipped tail (SourceGapError) and the partition's fetch
 * position is set back (the stream's own position map: the library has no seek). Within a
 * generation a partition's records are taken only in sequence from its start position: one
 * that does not follow on (a fetch from a position set before a rebalance or a gap, still
 * buffered or answered late) is dropped and the position set to the next record again.
 */
export class PlatformaticReadingSource {
  readonly counters: SourceCounters = newSourceCounters();
  connected = false;
  private lastFetchAt: number | null = null;
  private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private readonly tags: FetchTags;
  private readonly commits: PartitionCommits;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  private handle: BatchHandler = async () => undefined;
  private onAssign: AssignmentListener = () => undefined;
  private running = false;
  private joined = false;
  private readonly queues: PartitionQueues;
  private draining = new Set<number>();
  private restarting: Promise<void> | undefined;
  /** The generation whose start positions are set (startPositions). */
  private started = -1;

  constructor(private readonly options: PlatformaticSourceOptions) {
    const perPartition = options.maxBytesPerPartition ?? 1_048_576;
    const perFetch = options.maxBytesPerFetch ?? perPartition;
    const maxQueued = options.maxQueuedBytes ?? 2 * Math.max(perFetch, perPartition);
    this.consumer = new Consumer({
      ...options.connection,
      groupId: options.groupId,
      autocommit: false, // commits are explicit: only what the handler's checkpoint covers
      ...groupTimings(options.sessionTimeoutMs),
      // Short fetch waits keep latency low and let a shutdown finish quickly.
      maxWaitTime: 500,
      maxBytesPerPartition: perPartition,
      maxBytes: perFetch, // a fetch's whole answer (a partition's first batch even beyond)
    });
    this.queues = new PartitionQueues(
      {
        // The stream's own position map: the library has no seek.
        position: (p, offset) => this.stream?.offsetsToFetch.set(`${options.topic}:${p}`, offset),
        pause: () => this.stream?.pause(),
        resume: () => {
          if (this.stream?.isPaused()) this.stream.resume();
        },
      },
      maxQueued,
      // A batch joins fetches queued meanwhile: bounded as one fetch's (kafkajs's BatchesInFlight).
      Math.min(perFetch, perPartition),
    );
    this.commits = new PartitionCommits({
      log: options.log,
      flushAfterMs: options.flushAfterMs ?? 1000,
      running: () => this.running && this.joined,
      handle: () => this.handle,
      commitFlush: (offsets) => this.commit(offsets),
    });
    this.tags = new FetchTags(
      this.consumer,
      () => (this.joined ? this.commits.generation : -1),
      () => {
        this.lastFetchAt = performance.now();
      },
    );
    this.consumer.on('consumer:group:join', (e) => {
      const mine = e.assignments?.find((a) => a.topic === options.topic)?.partitions ?? [];
      this.begin(mine);
      options.log.info(
        { memberId: e.memberId, generationId: e.generationId, partitions: mine },
        'joined consumer group',
      );
    });
    const leave = () => {
      this.newGeneration();
      this.joined = false;
    };
    this.consumer.on('consumer:group:rebalance', leave);
    this.consumer.on('consumer:group:leave', leave);
    this.consumer.on('consumer:heartbeat:error', (e) =>
      options.log.warn({ err: e.error }, 'consumer group heartbeat failed'),
    );
  }

  async start(handle: BatchHandler, onAssign: AssignmentListener): Promise<void> {
    this.handle = handle;
    this.onAssign = onAssign;
    this.running = true;
    await this.open();
  }

  /** As KafkaReadingSource.fetching: a fetch was answered within `withinMs`. */
  fetching(withinMs = 5000): boolean {
    return this.lastFetchAt !== null && performance.now() - this.lastFetchAt <= withinMs;
  }

  /** The oldest offset the partition still holds (its log start offset; Pipeline.retainedFrom). */
  async retainedFrom(partition: number): Promise<string> {
    const low = (await this.earliest())[partition];
    if (low === undefined) throw new Error(`${this.options.topic} has no partition ${partition}`);
    return String(low);
  }

  /** Each partition's oldest offset the topic holds (its log start), by partition number. */
  private async earliest(): Promise<bigint[]> {
    const { topic } = this.options;
    const offsets = await this.consumer.listOffsets({
      topics: [topic],
      timestamp: ListOffsetTimestamps.EARLIEST,
    });
    return offsets.get(topic) ?? [];
  }

  async stop(): Promise<void> {
    this.running = false;
    this.newGeneration();
    this.tags.close();
    await this.stream?.close().catch(() => undefined);
    await this.consumer.close();
  }

  /** Opens the stream (joining the group); when it fails, opens a new one after a while. */
  private async open(): Promise<void> {
    const stream = await consumeCommitted(this.consumer, this.options.topic);
    const reopened = this.stream !== undefined;
    this.stream = stream;
    stream.on('data', (m) => this.receive(m));
    // A new stream in the same group generation: no join tells where to start.
    if (reopened && this.joined)
      this.begin(
        this.consumer.assignments?.find((a) => a.topic === this.options.topic)?.partitions ?? [],
      );
    stream.on('error', (err) => {
      if (!this.running || this.stream !== stream) return;
      this.options.log.error({ err }, 'consumer stream failed; opening a new one');
      this.connected = false;
      this.newGeneration();
      this.restarting ??= retry(() => this.open(), {
        minMs: 500,
        maxMs: 10_000,
        random: Math.random,
        onRetry: (e) => this.options.log.warn({ err: e }, 'consumer stream not open yet'),
      }).finally(() => {
        this.restarting = undefined;
      });
    });
  }

  private receive(m: Fetched): void {
    const tag = this.tags.of(m);
    const p = m.partition;
    const fetch = tag?.partitions.get(p);
    // Fetched before the latest rebalance: the stream fetches it again from the committed offset.
    if (!tag || !fetch || !this.joined || tag.generation !== this.commits.generation) return;
    if (this.started !== this.commits.generation) return; // start positions not known yet
    if (!this.queues.receive(m, fetch)) return;
    if (!this.draining.has(p)) {
      this.draining.add(p);
      setImmediate(() => void this.drain(p));
    }
  }

  /** A new generation with these partitions: the pipeline reopens them from checkpoints. */
  private begin(partitions: number[]): void {
    this.newGeneration();
    this.joined = true;
    this.connected = true;
    this.onAssign([...partitions].sort((x, y) => x - y));
    void this.startPositions(this.commits.generation, partitions);
  }

  /**
   * Where each assigned partition starts in generation `generation`: the group's committed
   * offset, or the earliest where there is none (or it is gone from the topic). The stream's
   * own positions cannot be trusted there: it keeps a partition's position when the group has
   * no commit for it, and a fetch sent before the rebalance and answered after sets the
   * position of its partitions (where this source had dropped what it brought). Until a fetch
   * from the start position arrives, the partition's records are dropped and the position is
   * set again (as after a gap).
   */
  private async startPositions(generation: number, partitions: number[]): Promise<void> {
    const { topic } = this.options;
    try {
      const [committed, earliest] = await Promise.all([
        this.consumer.listCommittedOffsets({ topics: [{ topic, partitions }] }),
        this.earliest(),
      ]);
      if (generation !== this.commits.generation) return;
      for (const p of partitions) {
        const low = earliest[p] ?? 0n;
        const done = committed.get(topic)?.[p] ?? -1n;
        const start = done > low ? done : low;
        this.queues.seek(p, start);
      }
      this.started = generation;
    } catch (err) {
      if (generation !== this.commits.generation || !this.running) return;
      this.options.log.warn({ err }, 'start positions not read; trying again');
      setTimeout(() => void this.startPositions(generation, partitions), 1000).unref();
    }
  }

  /** Hands the partition's queued records to the pipeline, batch after batch. */
  private async drain(p: number): Promise<void> {
    try {
      for (let batch = this.queues.take(p); batch && this.running; batch = this.queues.take(p)) {
        const generation = this.commits.generation;
        const decoded = decodeBatch(
          batch.head,
          batch.messages.map((m) => ({
            offset: String(m.offset),
            key: m.key ?? null,
            value: m.value ?? null,
            legacyControl: hasControlHeader(m.headers),
          })),
          this.counters,
        );
        const outcome = await runBatch(decoded, {
          handle: this.handle,
          current: () => this.running && this.joined && generation === this.commits.generation,
          counters: this.counters,
          log: this.options.log,
          backoff: this.options.backoff,
          fetched: batch.messages.length,
        });
        if ('gap' in outcome) {
          if (generation === this.commits.generation) {
            this.queues.seek(p, BigInt(outcome.gap.next));
          }
          continue;
        }
        if ('stale' in outcome) continue; // the queue went with the generation
        await this.commits.settle(generation, decoded, outcome.covered, (o) => this.commit(o));
      }
    } finally {
      this.draining.delete(p);
      if (this.queues.waiting(p) && this.running) {
        this.draining.add(p);
        setImmediate(() => void this.drain(p));
      }
    }
  }

  private commit(offsets: { partition: number; offset: string }[]): Promise<void> {
    return this.consumer.commit({
      offsets: offsets.map((o) => ({
        topic: this.options.topic,
        partition: o.partition,
        offset: BigInt(o.offset),
        leaderEpoch: -1,
      })),
    });
  }

  private newGeneration(): void {
    this.commits.newGeneration();
    this.queues.clear();
  }
}
