import {
  backoffMs,
  encodeRecord,
  type GatewayStatusRecord,
  IncompleteAckError,
  PlatformaticAckCheck,
  platformaticSecurityOptions,
  RECORD_SCHEMA_VERSION,
  RECORD_VERSION_HEADER,
} from '@iot-stream/contracts';
import {
  Admin,
  compatibilityPartitioner,
  findErrorBy,
  ProduceAcks,
  Producer,
  type ProducerOptions,
  stringSerializers,
} from '@platformatic/kafka';
import type { OutboxRow, Sink } from '../../ports.ts';
import type { KafkaSinkOptions } from '../kafka-sink.ts';
import { needsNewProducer, warnNewProducer } from '../new-producer.ts';
import { recordOf } from '../record.ts';
import { describe, KafkaSendError } from './errors.ts';

type StringProducer = Producer<string, string, string, string>;

/**
 * Between a request's retries: 200 ms doubling to 2 s, 5 s over 5 retries. Then the send fails
 * and `/health` says so (a broker SIGKILLed under 300 ms doubling to 5 s went unreported for
 * 9 s, test/fault/kafka-outage.test.ts); the forwarder resends the rows with its own backoff.
 */
const RETRY_BACKOFF = { minMs: 200, maxMs: 2000 };

/**
 * Forwards outbox rows to Kafka through @platformatic/kafka, with KafkaSink's guarantees:
 * acks from all in-sync replicas, an idempotent producer with one request in flight per
 * broker and one send in flight (the forwarder's), key = device id with Java's (and
 * kafkajs's) partitioner, so a device keeps its partition whichever client runs. Each send's
 * result is checked to cover every partition it wrote to (PlatformaticAckCheck); after an
 * incomplete acknowledgement or a lost producer state the next send gets a new producer.
 */
export class PlatformaticKafkaSink implements Sink {
  private producer: StringProducer;
  /** Status records go through their own producer: one send in flight per idempotent producer. */
  private readonly statusProducer: StringProducer;
  private readonly ackCheck = new PlatformaticAckCheck();
  private readonly connection: Pick<
    ProducerOptions<string, string, string, string>,
    'clientId' | 'bootstrapBrokers' | 'tls' | 'sasl' | 'timeout' | 'retries' | 'retryDelay'
  >;

  constructor(private readonly options: KafkaSinkOptions) {
    this.connection = {
      clientId: options.clientId,
      bootstrapBrokers: [...options.brokers],
      ...platformaticSecurityOptions(options.security),
      // kafkajs's request timeout; a Produce with acks=all waits this long for the replicas.
      timeout: 30_000,
      // Bounded (reliability notes): an idempotent producer would otherwise retry forever.
      retries: 5,
      retryDelay: (_client, _operation, attempt) => backoffMs(attempt, RETRY_BACKOFF),
    };
    this.producer = this.newProducer();
    this.statusProducer = new Producer({
      ...this.connection,
      acks: ProduceAcks.ALL,
      retries: 2,
      serializers: stringSerializers,
      partitioner: compatibilityPartitioner,
    });
  }

  private newProducer(): StringProducer {
    return new Producer({
      ...this.connection,
      idempotent: true, // which also means acks=all and one request in flight per broker
      acks: ProduceAcks.ALL,
      maxInflights: 1,
      compression: this.options.compression,
      serializers: stringSerializers,
      // Java's murmur2 partitioner (kafkajs's DefaultPartitioner), observed by the ack check.
      partitioner: this.ackCheck.partitioner(compatibilityPartitioner),
    });
  }

  /** See isProducerStateError: the old producer's state is of no use to the resend. */
  private async replaceProducer(err: unknown): Promise<void> {
    warnNewProducer(this.options.log, err);
    const old = this.producer;
    this.producer = this.newProducer();
    await old.close(true).catch(() => undefined);
  }

  async sendStatus(gatewayId: string, record: GatewayStatusRecord): Promise<void> {
    try {
      await this.statusProducer.send({
        messages: [
          { topic: this.options.statusTopic, key: gatewayId, value: JSON.stringify(record) },
        ],
      });
    } catch (err) {
      throw new KafkaSendError('status record not acknowledged', err);
    }
  }

  async connect(): Promise<void> {
    try {
      if (this.options.createTopic) await this.ensureTopic();
      // Gets a producer id, and the topic's partitions (refused if it does not exist).
      await this.producer.initIdempotentProducer({});
      await this.producer.metadata({ topics: [this.options.topic] });
    } catch (err) {
      throw new KafkaSendError('Kafka not reachable', err);
    }
  }

  /** Creates the topic when it does not exist yet (broker-default replication), as ensureTopic. */
  private async ensureTopic(): Promise<void> {
    const { topic, topicPartitions: partitions, log } = this.options;
    const admin = new Admin({ ...this.connection, retries: 1 });
    try {
      if ((await admin.listTopics()).includes(topic)) return;
      await admin.createTopics({ topics: [topic], partitions });
      log.info({ topic, partitions }, 'created Kafka topic');
    } catch (err) {
      // Another gateway created it between the two calls.
      if (!findErrorBy(err as Error, 'apiId', 'TOPIC_ALREADY_EXISTS')) throw err;
    } finally {
      await admin.close().catch(() => undefined);
    }
  }

  async send(rows: readonly OutboxRow[]): Promise<void> {
    try {
      await this.sendRows(rows);
    } catch (err) {
      // The forwarder resends the same rows. @platformatic/kafka already drops its producer id
      // after a failed send; a new producer also drops whatever else it kept (sequences,
      // connections), as KafkaSink does (at worst a duplicate, dropped downstream).
      if (needsNewProducer(err)) await this.replaceProducer(err);
      if (err instanceof IncompleteAckError) throw err;
      throw new KafkaSendError(`${rows.length} readings not acknowledged`, err);
    }
  }

  private async sendRows(rows: readonly OutboxRow[]): Promise<void> {
    const { topic, gatewayId, site } = this.options;
    const producer = this.producer;
    await this.ackCheck.check(
      topic,
      () =>
        producer.send({
          messages: rows.map((row) => ({
            topic,
            key: row.deviceId,
            value: encodeRecord(recordOf(row, gatewayId, site)),
            headers: { [RECORD_VERSION_HEADER]: String(RECORD_SCHEMA_VERSION) },
          })),
        }),
      () => producer.currentMetadata,
    );
  }

  async disconnect(): Promise<void> {
    const closed = await Promise.allSettled([
      this.statusProducer.close(true),
      this.producer.close(true),
    ]);
    const failed = closed.find((c) => c.status === 'rejected');
    if (failed)
      this.options.log.debug({ err: describe(failed.reason) }, 'Kafka producer close failed');
  }
}
