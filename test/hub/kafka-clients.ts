import { ensureTopics, type GatewayStatusRecord } from '@iot-stream/contracts';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { KafkaCheckpointStore } from '../../hub/src/kafka/checkpoint-store.ts';
import { KafkaReadingSource } from '../../hub/src/kafka/kafka-source.ts';
import type { RecordPublisher } from '../../hub/src/kafka/outputs.ts';
import { KafkaPublisher } from '../../hub/src/kafka/publisher.ts';
import { KafkaStatusSource } from '../../hub/src/kafka/status-source.ts';
import { PlatformaticCheckpointStore } from '../../hub/src/kafka-platformatic/checkpoint-store.ts';
import { platformaticConnection } from '../../hub/src/kafka-platformatic/connection.ts';
import { PlatformaticPublisher } from '../../hub/src/kafka-platformatic/publisher.ts';
import { PlatformaticReadingSource } from '../../hub/src/kafka-platformatic/reading-source.ts';
import { PlatformaticStatusSource } from '../../hub/src/kafka-platformatic/status-source.ts';
import type {
  AssignmentListener,
  BatchHandler,
  CheckpointStore,
  SourceCounters,
} from '../../hub/src/ports.ts';

// The hub's Kafka adapters of each client (kafkajs: hub/src/kafka/, @platformatic/kafka:
// hub/src/kafka-platformatic/), built as the wiring builds them, for the port contracts.

export const CLIENTS = ['kafkajs', 'platformatic'] as const;
export type ClientName = (typeof CLIENTS)[number];

export const quietLog = pino({ level: process.env.CONTRACT_LOG ?? 'silent' });

const SECURITY = {
  tls: { enabled: false, caFile: '', certFile: '', keyFile: '', rejectUnauthorized: true },
  sasl: { mechanism: 'none' as const, username: '', password: '' },
};

export interface Source {
  readonly counters: SourceCounters;
  start(handle: BatchHandler, onAssign: AssignmentListener): Promise<void>;
  retainedFrom(partition: number): Promise<string>;
  stop(): Promise<void>;
}

export interface ClientAdapters {
  publisher: RecordPublisher & {
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    send(topic: string, records: unknown[], options?: { gzip?: boolean }): Promise<void>;
  };
  checkpoints(
    topic: string,
    sourceTopic: string,
    groupId: string,
  ): CheckpointStore & {
    init(partitions: number): Promise<void>;
    close(): Promise<void>;
  };
  source(options: {
    topic: string;
    groupId: string;
    flushAfterMs: number;
    maxBytesPerPartition?: number;
    maxBytesPerFetch?: number;
  }): Source;
  status(options: {
    topic: string;
    groupId: string;
    write: (records: GatewayStatusRecord[]) => Promise<void>;
  }): { start(): Promise<void>; stop(): Promise<void> };
}

export function adapters(client: ClientName, brokers: string[]): ClientAdapters {
  const log = quietLog;
  if (client === 'platformatic') {
    const connection = platformaticConnection(brokers, 'contract', SECURITY);
    const publisher = new PlatformaticPublisher(connection);
    return {
      publisher: publisher as ClientAdapters['publisher'],
      checkpoints: (topic, sourceTopic, groupId) =>
        new PlatformaticCheckpointStore({
          connection,
          publisher,
          topic,
          sourceTopic,
          groupId,
          log,
        }),
      source: (o) =>
        new PlatformaticReadingSource({
          connection,
          sessionTimeoutMs: 6000,
          maxBytesPerPartition: 2048,
          ...o,
          backoff: { minMs: 50, maxMs: 200 },
          log,
        }),
      status: (o) => new PlatformaticStatusSource({ connection, ...o, log }),
    };
  }
  const kafka = new Kafka({ brokers, clientId: 'contract', logLevel: logLevel.NOTHING });
  const publisher = new KafkaPublisher((createPartitioner) =>
    kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner }),
  );
  return {
    publisher: publisher as unknown as ClientAdapters['publisher'],
    checkpoints: (topic, sourceTopic, groupId) =>
      new KafkaCheckpointStore({ kafka, publisher, topic, sourceTopic, groupId, log }),
    source: (o) =>
      new KafkaReadingSource({
        brokers,
        clientId: 'contract',
        deadLetterTopic: `${o.topic}.dlq`,
        sessionTimeoutMs: 6000,
        maxBytesPerPartition: 2048,
        ...o,
        backoff: { minMs: 50, maxMs: 200 },
        log,
      }),
    status: (o) => new KafkaStatusSource({ brokers, clientId: 'contract', ...o, log }),
  };
}

/** Creates a topic with the given configs (before a store would create it its own way). */
export async function createTopic(
  brokers: string[],
  topic: string,
  partitions: number,
  configs: Record<string, string>,
) {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [{ topic, partitions, configs }], quietLog);
  } finally {
    await admin.disconnect();
  }
}

/** Deletes a partition's records before `offset`, as retention would. */
export async function deleteBefore(
  brokers: string[],
  topic: string,
  partition: number,
  offset: string,
) {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.fetchTopicOffsets(topic); // loads the topic's metadata, which the delete needs
    await admin.deleteTopicRecords({ topic, partitions: [{ partition, offset }] });
  } finally {
    await admin.disconnect();
  }
}

/** Committed offset (next to read) and end offset of each partition, for a group. */
export async function offsets(brokers: string[], topic: string, groupId: string) {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return ends
      .map((e) => ({
        partition: e.partition,
        end: Number(e.high),
        committed: Number(
          committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? -1,
        ),
      }))
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

/** Creates a topic; sends messages (explicit partitions) acknowledged by all replicas. */
export async function produceRaw(
  brokers: string[],
  topic: string,
  partitions: number,
  messages: { partition: number; key?: string; value: string; headers?: Record<string, string> }[],
) {
  const kafka = new Kafka({ brokers, clientId: 'contract-producer', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: partitions }],
    waitForLeaders: true,
  });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

/** Every message of a topic with its partition, key and headers (a kafkajs group reader). */
export async function readAll(brokers: string[], topic: string) {
  const kafka = new Kafka({ brokers, clientId: 'contract-reader', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = ends.reduce((n, e) => n + Number(e.high) - Number(e.low), 0);
  const out: { partition: number; key: string; value: string; headers: Record<string, string> }[] =
    [];
  if (total === 0) return out;
  const consumer = kafka.consumer({ groupId: `reader-${Math.random()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`read ${out.length} of ${total}`)), 30_000);
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        out.push({
          partition,
          key: String(message.key),
          value: String(message.value),
          headers: Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
          ),
        });
        if (out.length >= total) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return out;
}
