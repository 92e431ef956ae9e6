import { join } from 'node:path';
import type { GatewayStatusRecord } from '@iot-stream/contracts';
import {
  ensureTopics,
  type KafkaClientName,
  kafkaSecurityOptions,
  pinoLogCreator,
} from '@iot-stream/contracts';
import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import { checkpointTopicOf, type HubConfig, hubTopics } from '../config.ts';
import type { IngestTarget } from '../http/api/routes-ingest.ts';
import { KafkaCheckpointStore } from '../kafka/checkpoint-store.ts';
import { KafkaReadingSource } from '../kafka/kafka-source.ts';
import { KafkaOutputs, type RecordPublisher } from '../kafka/outputs.ts';
import { KafkaPublisher } from '../kafka/publisher.ts';
import { KafkaStatusSource } from '../kafka/status-source.ts';
import { checkpointTopicSpec } from '../kafka-common/records.ts';
import { LocalLog } from '../local/log.ts';
import { LocalOutputs } from '../local/outputs.ts';
import { LocalSource } from '../local/source.ts';
import type {
  AssignmentListener,
  BatchHandler,
  CheckpointStore,
  Outputs,
  SourceCounters,
} from '../ports.ts';

/** Where readings come from, and where the pipeline's outputs besides the store go. */
export interface Input {
  mode: 'kafka' | 'single-box';
  source: {
    readonly counters: SourceCounters;
    readonly connected: boolean;
    start(handle: BatchHandler, onAssign: AssignmentListener): Promise<void>;
    /** The oldest offset a partition still holds (Pipeline's retainedFrom). */
    retainedFrom(partition: number): Promise<string>;
    stop(): Promise<void>;
  };
  outputs: Outputs;
  checkpoints: CheckpointStore;
  /** Whether the source is fetching now: quiet partitions are punctuated only then. */
  live: () => boolean;
  /** Single-box mode: what POST /api/ingest stores into. */
  ingest?: IngestTarget;
  /** Starts reading gateway status records (Kafka mode; single-box gets them over HTTP). */
  startStatus(write: (records: GatewayStatusRecord[]) => Promise<void>): Promise<void>;
  describe: Record<string, unknown>;
  stop(): Promise<void>;
}

type Retry = (fn: () => Promise<void>, what: string) => Promise<void>;

/**
 * Kafka mode: the consumer group, checkpoints in a compacted topic, outputs to topics; through
 * kafkajs, or @platformatic/kafka with `kafka.client: platformatic` (platformatic-input.ts).
 */
export async function kafkaInput(
  config: HubConfig,
  brokers: readonly string[],
  logger: Logger,
  retry: Retry,
): Promise<Input> {
  const k = config.kafka;
  if (k.client === 'platformatic')
    return (await import('./platformatic-input.ts')).platformaticInput(
      config,
      brokers,
      logger,
      retry,
    );
  const connection = kafkaSecurityOptions(k.security);
  let partitions = k.partitions;
  await retry(async () => {
    const admin = new Kafka({
      brokers: [...brokers],
      ...connection,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      // The checkpoint topic has the readings topic's partitions: counted first when it
      // exists, so that every missing topic is created in one request (each took ~150 ms).
      const existing = await admin.listTopics();
      if (existing.includes(k.topic)) partitions = (await admin.fetchTopicOffsets(k.topic)).length;
      await ensureTopics(
        admin,
        [...hubTopics(k), checkpointTopicSpec(checkpointTopicOf(k), partitions)],
        logger,
      );
      partitions = (await admin.fetchTopicOffsets(k.topic)).length;
    } finally {
      await admin.disconnect();
    }
  }, 'Kafka');
  const kafka = new Kafka({
    clientId: k.clientId,
    brokers: [...brokers],
    ...connection,
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(logger.child({ module: 'kafka' })),
  });
  const publisher = new KafkaPublisher((createPartitioner) =>
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner, // kafkajs's DefaultPartitioner, observed by the publisher's AckCheck
    }),
  );
  await publisher.connect();
  const checkpoints = new KafkaCheckpointStore({
    kafka,
    publisher,
    ...checkpointTopics(k, logger),
  });
  await initCheckpoints(checkpoints, publisher, partitions, retry);
  const s = config.stream;
  const source = new KafkaReadingSource({
    ...k,
    brokers,
    connection,
    flushAfterMs: s.checkpointIntervalMs || 1000,
    log: logger.child({ module: 'kafka-source' }),
  });
  return kafkaModeInput(config, {
    client: 'kafkajs',
    source,
    publisher,
    checkpoints,
    status: (write) =>
      new KafkaStatusSource({
        brokers,
        connection,
        clientId: k.clientId,
        ...statusTopic(k, logger, write),
      }),
  });
}

/**
 * Sets up the checkpoint topic, or, when that fails for good (a checkpoint topic with too few
 * partitions, a signal during start-up), disconnects what the input had connected before it
 * fails: a library user's process would otherwise keep the producer's connections (either
 * client's input).
 */
export async function initCheckpoints(
  checkpoints: { init(partitions: number): Promise<void>; close(): Promise<void> },
  publisher: Pick<KafkaParts['publisher'], 'disconnect'>,
  partitions: number,
  retry: Retry,
): Promise<void> {
  try {
    await retry(() => checkpoints.init(partitions), 'Kafka checkpoint topic');
  } catch (err) {
    await Promise.allSettled([checkpoints.close(), publisher.disconnect()]);
    throw err;
  }
}

/** Where a Kafka mode's checkpoints go (either client's store). */
export function checkpointTopics(k: HubConfig['kafka'], logger: Logger) {
  const log = logger.child({ module: 'checkpoints' });
  return { topic: checkpointTopicOf(k), sourceTopic: k.topic, groupId: k.groupId, log };
}

type StatusWriter = (records: GatewayStatusRecord[]) => Promise<void>;

/** Where a Kafka mode's gateway status records come from (either client's status source). */
export function statusTopic(k: HubConfig['kafka'], logger: Logger, write: StatusWriter) {
  const log = logger.child({ module: 'status-source' });
  return {
    groupId: `${k.groupId}.gateway-status`,
    topic: k.statusTopic,
    // As the readings' group: a restarted hub's join waits at most this long for both.
    sessionTimeoutMs: k.sessionTimeoutMs,
    log,
    write,
  };
}

/** What a Kafka client's adapters give the Kafka mode (kafkaInput, platformaticInput). */
export interface KafkaParts {
  client: KafkaClientName;
  source: Input['source'] & { fetching(withinMs: number): boolean };
  publisher: RecordPublisher & { disconnect(): Promise<void> };
  checkpoints: CheckpointStore & { close(): Promise<void> };
  status: (write: StatusWriter) => { start(): Promise<void>; stop(): Promise<void> };
}

/** The Kafka mode's input from one client's adapters, ready (topics made, publisher connected). */
export function kafkaModeInput(config: HubConfig, parts: KafkaParts): Input {
  const k = config.kafka;
  let status: ReturnType<KafkaParts['status']> | undefined;
  return {
    mode: 'kafka',
    source: parts.source,
    outputs: new KafkaOutputs(parts.publisher, {
      deadLetter: k.deadLetterTopic,
      anomalies: k.anomalyTopic,
    }),
    checkpoints: parts.checkpoints,
    live: () => parts.source.fetching(Math.max(5000, 2 * k.sessionTimeoutMs)),
    async startStatus(write) {
      status = parts.status(write);
      await status.start();
    },
    describe: { topic: k.topic, groupId: k.groupId, client: parts.client },
    async stop() {
      await parts.source.stop();
      await status?.stop();
      await parts.checkpoints.close();
      await parts.publisher.disconnect();
    },
  };
}

/**
 * Single-box mode (no `kafka.brokers`): gateways POST to /api/ingest, which appends to a local
 * SQLite log (`storage.dir`/log.db); the pipeline reads it as one partition and checkpoints
 * there; dead letters and anomaly events are kept there too.
 */
export function localInput(config: HubConfig, logger: Logger): Input {
  const log = new LocalLog(join(config.storage.dir, 'log.db'), config.storage);
  const source = new LocalSource({ log, logger: logger.child({ module: 'local-source' }) });
  let writeStatus: ((records: GatewayStatusRecord[]) => Promise<void>) | undefined;
  const outputs = new LocalOutputs(log, {
    deadLetter: config.kafka.deadLetterTopic,
    anomalies: config.kafka.anomalyTopic,
  });
  return {
    mode: 'single-box',
    source,
    outputs,
    checkpoints: log,
    live: () => true, // the log is local: no records is quiet
    ingest: {
      append: (records) => log.append(records),
      deadLetter: (items) =>
        outputs.deadLetters(
          items.map((i) => ({
            key: null,
            value: JSON.stringify(i.value),
            code: i.code,
            reason: i.reason,
            source: { topic: 'http-ingest', partition: 0 },
          })),
        ),
      writeStatus: async (record) => {
        await writeStatus?.([record]);
      },
    },
    async startStatus(write) {
      writeStatus = write;
    },
    describe: { log: join(config.storage.dir, 'log.db') },
    async stop() {
      await source.stop();
      log.close();
    },
  };
}
