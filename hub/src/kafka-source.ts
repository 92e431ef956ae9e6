import { decodeRecord, pinoLogCreator, type ReadingRecord } from '@iot-stream/contracts';
import {
  type Consumer,
  Kafka,
  logLevel as KafkaLogLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
import type { Logger } from 'pino';

export interface KafkaSourceOptions {
  brokers: readonly string[];
  clientId: string;
  groupId: string;
  topic: string;
  deadLetterTopic: string;
  log: Logger;
  backoff?: { minMs: number; maxMs: number };
}

export interface KafkaSourceCounters {
  records: number;
  written: number;
  invalid: number;
  writeFailures: number;
  batches: number;
}

/** Writes a batch of valid records; resolves once the store acknowledged them. */
export type BatchHandler = (records: ReadingRecord[]) => Promise<void>;

/**
 * Consumes readings as a consumer group. A batch's offsets are resolved and committed only
 * after the handler's write succeeded (auto-resolve is off); a failed write is retried with
 * backoff and nothing is committed meanwhile. Records that fail validation go to the
 * dead-letter topic with the reason in a header, then count as consumed.
 */
export class KafkaReadingSource {
  readonly counters: KafkaSourceCounters = {
    records: 0,
    written: 0,
    invalid: 0,
    writeFailures: 0,
    batches: 0,
  };
  connected = false;
  private readonly consumer: Consumer;
  private readonly producer: Producer;

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
    });
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.connected = true;
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

  async start(handle: BatchHandler): Promise<void> {
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        commitOffsetsIfNecessary,
        isRunning,
        isStale,
      }) => {
        if (batch.messages.length === 0) return;
        const valid: ReadingRecord[] = [];
        const invalid: {
          value: Buffer | null;
          key: Buffer | null;
          code: string;
          reason: string;
        }[] = [];
        for (const m of batch.messages) {
          const decoded = decodeRecord(m.value);
          if (decoded.ok) valid.push(decoded.record);
          else
            invalid.push({
              value: m.value,
              key: m.key,
              code: decoded.code,
              reason: decoded.reason,
            });
        }
        for (let attempt = 1; ; attempt += 1) {
          if (!isRunning() || isStale()) return; // uncommitted: another member will redo it
          try {
            await handle(valid);
            if (invalid.length > 0) await this.deadLetter(batch.partition, invalid);
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
        this.counters.written += valid.length;
        this.counters.invalid += invalid.length;
        resolveOffset(batch.lastOffset());
        await commitOffsetsIfNecessary();
        await heartbeat();
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }

  private async deadLetter(
    partition: number,
    invalid: { value: Buffer | null; key: Buffer | null; code: string; reason: string }[],
  ): Promise<void> {
    for (const i of invalid) {
      this.options.log.error(
        { partition, code: i.code, reason: i.reason },
        'invalid record sent to dead-letter topic',
      );
    }
    await this.producer.send({
      topic: this.options.deadLetterTopic,
      acks: -1,
      messages: invalid.map((i) => ({
        key: i.key,
        value: i.value,
        headers: {
          'iot-error-code': i.code,
          'iot-error-reason': i.reason,
          'iot-source-topic': this.options.topic,
        },
      })),
    });
  }

  private backoffMs(attempt: number): number {
    const { minMs, maxMs } = this.options.backoff ?? { minMs: 200, maxMs: 10_000 };
    const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt - 1, 20));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }
}
