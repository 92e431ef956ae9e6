import { IncompleteAckError, IotError, PlatformaticAckCheck } from '@iot-stream/contracts';
import {
  CompressionAlgorithms,
  compatibilityPartitioner,
  type MessageToProduce,
  ProduceAcks,
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
 * to (PlatformaticAckCheck, as the gateway's sink does; PlatformaticAckError otherwise, and a
 * new producer).
 * After a failed send the library starts a new producer id itself; after UNKNOWN_PRODUCER_ID
 * or OUT_OF_ORDER_SEQUENCE_NUMBER it re-initialises and resends that share (#309, fixed).
 */
export class PlatformaticPublisher {
  private tail: Promise<unknown> = Promise.resolve();
  private producer: Producer<unknown, unknown, unknown, unknown>;
  /** Producers replaced after an incomplete acknowledgement. */
  replacements = 0;
  private readonly ackCheck = new PlatformaticAckCheck();

  constructor(private readonly connection: PlatformaticConnection) {
    this.producer = this.create();
  }

  private create(): Producer<unknown, unknown, unknown, unknown> {
    return new Producer({
      ...this.connection,
      idempotent: true,
      acks: ProduceAcks.ALL,
      serializers: bytesSerializers,
      partitioner: this.ackCheck.partitioner(compatibilityPartitioner),
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
      const producer = this.producer;
      try {
        await this.ackCheck.check(
          topic,
          () =>
            producer.send({
              messages,
              ...(options.gzip ? { compression: CompressionAlgorithms.GZIP } : {}),
            }),
          () => producer.currentMetadata,
          messages,
        );
      } catch (err) {
        if (!(err instanceof IncompleteAckError)) throw err;
        this.producer = this.create();
        this.replacements += 1;
        await producer.close().catch(() => undefined);
        throw new PlatformaticAckError(topic, err.missing);
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }
}
