import {
  CONTROL_HEADER,
  decodeRecord,
  decodeTick,
  pinoLogCreator,
  type ReadingRecord,
} from '@iot-stream/contracts';
import { type Consumer, Kafka, logLevel as KafkaLogLevel } from 'kafkajs';
import type { Logger } from 'pino';

export interface KafkaSourceOptions {
  brokers: readonly string[];
  clientId: string;
  groupId: string;
  topic: string;
  deadLetterTopic: string;
  log: Logger;
  backoff?: { minMs: number; maxMs: number };
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
}

export interface KafkaSourceCounters {
  records: number;
  invalid: number;
  writeFailures: number;
  batches: number;
}

/** A record that failed validation, for the dead-letter topic. */
export interface InvalidRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  code: string;
  reason: string;
}

/** One fetched batch of one partition, decoded, in offset order. */
export interface SourceBatch {
  partition: number;
  lastOffset: string;
  highWatermark: string;
  records: { offset: string; record: ReadingRecord }[];
  invalid: InvalidRecord[];
  /** Tick control records (see contracts' tickMessage), in offset order. */
  ticks?: { offset: string; time: number }[];
}

/** Processes and writes a batch; resolves once everything it produced is acknowledged. */
export type BatchHandler = (batch: SourceBatch) => Promise<void>;

/** Told the partitions this member owns after each rebalance (a new generation). */
export type AssignmentListener = (partitions: number[]) => void;

/**
 * Consumes readings as a consumer group. A batch's offsets are resolved and committed only
 * after the handler's write succeeded (auto-resolve is off); a failed write is retried with
 * backoff and nothing is committed meanwhile, which is also the backpressure: a partition is
 * not fetched further while its batch waits for the writer. The handler dead-letters records
 * that fail validation.
 */
export class KafkaReadingSource {
  readonly counters: KafkaSourceCounters = {
    records: 0,
    invalid: 0,
    writeFailures: 0,
    batches: 0,
  };
  connected = false;
  private readonly consumer: Consumer;
  private onAssign: AssignmentListener = () => undefined;

  constructor(private readonly options: KafkaSourceOptions) {
    const kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
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
      this.connected = true;
      const assigned = e.payload.memberAssignment[options.topic] ?? [];
      this.onAssign([...assigned].sort((x, y) => x - y));
      options.log.info(
        { memberId: e.payload.memberId, assignment: e.payload.memberAssignment },
        'joined consumer group',
      );
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.connected = false;
      options.log.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
    });
  }

  async start(handle: BatchHandler, onAssign: AssignmentListener): Promise<void> {
    this.onAssign = onAssign;
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 4,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        commitOffsetsIfNecessary,
        isRunning,
        isStale,
      }) => {
        if (batch.messages.length === 0) return;
        const decoded: SourceBatch = {
          partition: batch.partition,
          lastOffset: batch.lastOffset(),
          highWatermark: batch.highWatermark,
          records: [],
          invalid: [],
        };
        for (const m of batch.messages) {
          const control = m.headers?.[CONTROL_HEADER]?.toString();
          const tick = control === 'tick' ? decodeTick(m.value) : undefined;
          if (tick !== undefined) {
            (decoded.ticks ??= []).push({ offset: m.offset, time: tick });
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
        for (let attempt = 1; ; attempt += 1) {
          if (!isRunning() || isStale()) return; // uncommitted: another member will redo it
          try {
            await handle(decoded);
            break;
          } catch (err) {
            this.counters.writeFailures += 1;
            const delay = this.backoffMs(attempt);
            this.options.log.warn(
              { err, partition: batch.partition, retryInMs: delay },
              'write failed; retrying batch',
            );
            await new Promise((r) => setTimeout(r, delay));
            await heartbeat();
          }
        }
        this.counters.batches += 1;
        this.counters.records += batch.messages.length;
        this.counters.invalid += decoded.invalid.length;
        resolveOffset(batch.lastOffset());
        await commitOffsetsIfNecessary();
        await heartbeat();
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private backoffMs(attempt: number): number {
    const { minMs, maxMs } = this.options.backoff ?? { minMs: 200, maxMs: 10_000 };
    const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt - 1, 20));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }
}
