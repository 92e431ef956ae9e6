import {
  encodeRecord,
  ensureTopic,
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
import type { OutboxRow, Sink } from './ports.ts';
import { recordOf } from './uplink-record.ts';

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
 * their order in one partition.
 */
export class KafkaSink implements Sink {
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  /** Status records go through their own producer: one send in flight per idempotent producer. */
  private readonly statusProducer: Producer;

  constructor(private readonly options: KafkaSinkOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: KafkaLogLevel.WARN,
      logCreator: pinoLogCreator(options.log),
      ...kafkaSecurityOptions(options.security),
      retry: { retries: 5 },
    });
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 5 },
    });
    this.statusProducer = this.kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 2 },
    });
  }

  async sendStatus(gatewayId: string, record: object): Promise<void> {
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
    await this.producer.connect();
    await this.statusProducer.connect();
  }

  async send(rows: readonly OutboxRow[]): Promise<void> {
    await this.producer.send({
      topic: this.options.topic,
      acks: -1,
      compression:
        this.options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
      messages: rows.map((row) => ({
        key: row.deviceId,
        value: encodeRecord(recordOf(row, this.options.gatewayId, this.options.site)),
        headers: { [RECORD_VERSION_HEADER]: String(RECORD_SCHEMA_VERSION) },
      })),
    });
  }

  async disconnect(): Promise<void> {
    await this.statusProducer.disconnect();
    await this.producer.disconnect();
  }
}
