import { IotError } from '@iot-stream/contracts';
import {
  CompressionAlgorithms,
  compatibilityPartitioner,
  type MessageToProduce,
  ProduceAcks,
  type ProduceResult,
  Producer,
} from '@platformatic/kafka';
import type { OutputRecord } from '../store/outputs.ts';
import { bytesSerializers, type PlatformaticConnection } from './connection.ts';

/** A record to publish; `partition` when the caller chooses it (checkpoints). */
export type PublishedRecord =
  | OutputRecord
  | (Omit<OutputRecord, 'headers'> & { partition: number });

/** A send resolved without an acknowledgement for a partition some of its records went to. */
export class PlatformaticAckError extends IotError {
  constructor(topic: string, missing: readonly number[]) {
    super(
      'KAFKA_ACK_INCOMPLETE',
      `@platformatic/kafka resolved a send to ${topic} without acknowledging partition(s) ${missing.join(',')}`,
      { retriable: true },
    );
  }
}

type Message = MessageToProduce<unknown, unknown, unknown, unknown>;

/**
 * The hub's outputs (anomalies, dead letters, checkpoints) through one @platformatic/kafka
 * producer: idempotent, acks from all in-sync replicas, one send in flight at a time (the
 * same class of loss as kafkajs #1005 hit this library, #326, fixed), many records per send.
 *
 * The library partitions every record before it sends, sends each leader broker's share with
 * its own retries (a moved leader is looked up again for that share alone) and fails the
 * whole send when any share fails: the shared-response bug behind kafkajs #1303 has no
 * counterpart here. Each result is still checked to cover every partition the records went
 * to, as the kafkajs publisher does (PlatformaticAckError otherwise, and a new producer).
 * After a failed send the library starts a new producer id itself; after UNKNOWN_PRODUCER_ID
 * or OUT_OF_ORDER_SEQUENCE_NUMBER it re-initialises and resends that share (#309, fixed).
 */
export class PlatformaticPublisher {
  private tail: Promise<unknown> = Promise.resolve();
  private producer: Producer<unknown, unknown, unknown, unknown>;
  /** Producers replaced after an incomplete acknowledgement. */
  replacements = 0;
  /** Message -> partition chosen (before the library takes it modulo the partition count). */
  private assigned = new Map<Message, number>();

  constructor(private readonly connection: PlatformaticConnection) {
    this.producer = this.create();
  }

  private create(): Producer<unknown, unknown, unknown, unknown> {
    return new Producer({
      ...this.connection,
      idempotent: true,
      acks: ProduceAcks.ALL,
      serializers: bytesSerializers,
      partitioner: (message, key) => {
        const partition = compatibilityPartitioner(message, key);
        this.assigned.set(message, partition);
        return partition;
      },
    });
  }

  async connect(): Promise<void> {
    await this.producer.metadata({ topics: [] });
  }

  disconnect(): Promise<void> {
    return this.producer.close();
  }

  send(topic: string, records: PublishedRecord[], options: { gzip?: boolean } = {}): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const run = this.tail.then(async () => {
      const messages: Message[] = records.map((r) => ({ topic, ...r, key: r.key ?? undefined }));
      for (const m of messages)
        if (typeof m.partition === 'number') this.assigned.set(m, m.partition);
      const producer = this.producer;
      try {
        const result = await producer.send({
          messages,
          ...(options.gzip ? { compression: CompressionAlgorithms.GZIP } : {}),
        });
        const missing = this.unacknowledged(topic, messages, result);
        if (missing.length > 0) {
          this.producer = this.create();
          this.replacements += 1;
          await producer.close().catch(() => undefined);
          throw new PlatformaticAckError(topic, missing);
        }
      } finally {
        for (const m of messages) this.assigned.delete(m);
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Partitions some of `messages` went to that `result` has no offset for. */
  private unacknowledged(topic: string, messages: Message[], result: ProduceResult): number[] {
    const count = this.producer.currentMetadata?.topics.get(topic)?.partitionsCount;
    const acked = new Set(
      (result.offsets ?? []).filter((o) => o.topic === topic).map((o) => o.partition),
    );
    const missing = new Set<number>();
    for (const m of messages) {
      const chosen = this.assigned.get(m);
      if (chosen === undefined || count === undefined) continue;
      if (!acked.has(chosen % count)) missing.add(chosen % count);
    }
    return [...missing].sort((a, b) => a - b);
  }
}
