import {
  AckCheck,
  encodeRecord,
  ensureTopic,
  type GatewayStatusRecord,
  type KafkaSecurity,
  kafkaSecurityOptions,
  pinoLogCreator,
  RECORD_SCHEMA_VERSION,
  RECORD_VERSION_HEADER,
} from '@iot-stream/contracts';
import {
  CompressionTypes,
  Kafka,
  logLevel as KafkaLogLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
import type { Logger } from 'pino';
import type { OutboxRow, Sink } from '../ports.ts';
import { needsNewProducer, warnNewProducer } from './new-producer.ts';
import { recordOf } from './record.ts';

export interface KafkaSinkOptions {
  brokers: readonly string[];
  clientId: string;
  topic: string;
  statusTopic: string;
  compression: 'gzip' | 'none';
  gatewayId: string;
  /** Sent with every record when set. */
  site?: string | undefined;
  createTopic: boolean;
  topicPartitions: number;
  security: KafkaSecurity;
  log: Logger;
}

/**
 * Forwards outbox rows to Kafka: acks from all in-sync replicas, an idempotent producer with
 * one request in flight (kafkajs #1005/#598), key = device id so a device's readings keep
 * their order in one partition. Each send's result is checked to cover every partition it
 * wrote to (AckCheck: kafkajs can resolve a send without writing a killed leader's share).
 */
export class KafkaSink implements Sink {
  private readonly kafka: Kafka;
  private producer: Producer;
  /** Set once the current producer connected (see replaceProducer). */
  private producerConnected: Promise<void> | undefined;
  /** Status records go through their own producer: one send in flight per idempotent producer. */
  private readonly statusProducer: Producer;
  private readonly ackCheck = new AckCheck();

  constructor(private readonly options: KafkaSinkOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: KafkaLogLevel.WARN,
      logCreator: pinoLogCreator(options.log),
      ...kafkaSecurityOptions(options.security),
      retry: { retries: 5 },
    });
    this.producer = this.newProducer();
    this.statusProducer = this.kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 2 },
    });
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: this.ackCheck.createPartitioner, // DefaultPartitioner, observed
      retry: { retries: 5 },
    });
  }

  /** See isProducerStateError: the old producer would fail every send from now on. */
  private async replaceProducer(err: unknown): Promise<void> {
    warnNewProducer(this.options.log, err);
    const old = this.producer;
    this.producer = this.newProducer();
    this.producerConnected = undefined; // connected by the next send
    await old.disconnect().catch(() => undefined);
  }

  async sendStatus(gatewayId: string, record: GatewayStatusRecord): Promise<void> {
    await this.statusProducer.send({
      topic: this.options.statusTopic,
      acks: -1,
      messages: [{ key: gatewayId, value: JSON.stringify(record) }],
    });
  }

  async connect(): Promise<void> {
    if (this.options.createTopic) {
      const admin = this.kafka.admin({ retry: { retries: 1 } });
      await admin.connect();
      try {
        await ensureTopic(
          admin,
          this.options.topic,
          this.options.topicPartitions,
          this.options.log,
        );
      } finally {
        await admin.disconnect();
      }
    }
    await this.producerReady();
    await this.statusProducer.connect();
  }

  /** Connects the current producer once (again after replaceProducer or a failed attempt). */
  private producerReady(): Promise<void> {
    this.producerConnected ??= this.producer.connect().catch((err: unknown) => {
      this.producerConnected = undefined;
      throw err;
    });
    return this.producerConnected;
  }

  async send(rows: readonly OutboxRow[]): Promise<void> {
    try {
      await this.sendRows(rows);
    } catch (err) {
      // The forwarder resends the same rows; with a new producer they can get through. After an
      // incomplete acknowledgement the old producer rolled back the sequence numbers of the
      // partitions it failed to write, which a new leader may already hold: a new producer id
      // makes the resend unambiguous (at worst a duplicate, dropped downstream).
      if (needsNewProducer(err)) await this.replaceProducer(err);
      throw err;
    }
  }

  private async sendRows(rows: readonly OutboxRow[]): Promise<void> {
    await this.producerReady();
    const producer = this.producer;
    await this.ackCheck.check(this.options.topic, () =>
      producer.send({
        topic: this.options.topic,
        acks: -1,
        compression:
          this.options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: rows.map((row) => ({
          key: row.deviceId,
          value: encodeRecord(recordOf(row, this.options.gatewayId, this.options.site)),
          headers: { [RECORD_VERSION_HEADER]: String(RECORD_SCHEMA_VERSION) },
        })),
      }),
    );
  }

  async disconnect(): Promise<void> {
    await this.statusProducer.disconnect();
    await this.producer.disconnect();
  }
}
