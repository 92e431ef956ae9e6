import type { Logger } from 'pino';
import { type HubConfig, hubTopics } from '../config.ts';
import { PlatformaticCheckpointStore } from '../kafka-platformatic/checkpoint-store.ts';
import { platformaticConnection } from '../kafka-platformatic/connection.ts';
import { PlatformaticPublisher } from '../kafka-platformatic/publisher.ts';
import { PlatformaticReadingSource } from '../kafka-platformatic/reading-source.ts';
import { PlatformaticStatusSource } from '../kafka-platformatic/status-source.ts';
import { ensureTopics } from '../kafka-platformatic/topics.ts';
import {
  checkpointTopics,
  type Input,
  initCheckpoints,
  kafkaModeInput,
  statusTopic,
} from './inputs.ts';

type Retry = (fn: () => Promise<void>, what: string) => Promise<void>;

/**
 * Kafka mode with `kafka.client: platformatic`: the same ports as kafkaInput (inputs.ts),
 * through @platformatic/kafka (hub/src/kafka-platformatic/).
 */
export async function platformaticInput(
  config: HubConfig,
  brokers: readonly string[],
  logger: Logger,
  retry: Retry,
): Promise<Input> {
  const k = config.kafka;
  const connection = platformaticConnection(brokers, k.clientId, k.security);
  let partitions = k.partitions;
  await retry(async () => {
    const counts = await ensureTopics(connection, hubTopics(k), logger);
    partitions = counts.get(k.topic) ?? k.partitions;
  }, 'Kafka');
  const publisher = new PlatformaticPublisher(connection);
  await retry(() => publisher.connect(), 'Kafka producer');
  const checkpoints = new PlatformaticCheckpointStore({
    connection,
    publisher,
    ...checkpointTopics(k, logger),
  });
  await initCheckpoints(checkpoints, publisher, partitions, retry);
  const source = new PlatformaticReadingSource({
    connection,
    groupId: k.groupId,
    topic: k.topic,
    sessionTimeoutMs: k.sessionTimeoutMs,
    maxBytesPerPartition: k.maxBytesPerPartition,
    maxBytesPerFetch: k.maxBytesPerFetch,
    flushAfterMs: config.stream.checkpointIntervalMs || 1000,
    log: logger.child({ module: 'kafka-source' }),
  });
  return kafkaModeInput(config, {
    client: 'platformatic',
    source,
    publisher,
    checkpoints,
    status: (write) =>
      new PlatformaticStatusSource({ connection, ...statusTopic(k, logger, write) }),
  });
}
