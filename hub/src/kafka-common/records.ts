import {
  checkStatusRecord,
  type GatewayStatusRecord,
  IotError,
  isMessageTooLarge,
  type TopicSpec,
} from '@iot-stream/contracts';

// The record layouts both Kafka clients' adapters (kafka/, kafka-platformatic/) read and write,
// so hubs on either client share a group's checkpoints and topics.

export class CheckpointError extends IotError {
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super('CHECKPOINT_FAILED', message, { retriable: true, ...options });
  }
}

/**
 * A partition's checkpoint the checkpoint topic refused for its size (the broker's
 * MESSAGE_TOO_LARGE): its state outgrew the topic's max.message.bytes. Retried as any failed
 * checkpoint (the state may shrink as devices go quiet), but named for what would fix it.
 */
export class CheckpointTooLargeError extends IotError {
  constructor(topic: string, partition: number, jsonBytes: number, cause: unknown) {
    const mb = (jsonBytes / 1024 / 1024).toFixed(1);
    super(
      'CHECKPOINT_TOO_LARGE',
      `the checkpoint of partition ${partition} (${mb} MB of JSON) is larger than topic ${topic} takes after gzip (its max.message.bytes; ${MAX_CHECKPOINT_BYTES / 1024 / 1024} MiB as the hub creates it): spread the devices over more partitions or lower stream.dedupRecordsPerDevice`,
      { retriable: true, cause },
    );
  }
}

/** The largest checkpoint record (the topic's max.message.bytes), and a fetch's limit. */
export const MAX_CHECKPOINT_BYTES = 16 * 1024 * 1024;

/**
 * A checkpoint topic, as either client creates it: compacted (the newest record of partition p
 * is readings partition p's checkpoint), with as many partitions as the readings topic.
 */
export function checkpointTopicSpec(topic: string, partitions: number): TopicSpec {
  return {
    topic,
    partitions,
    configs: { 'cleanup.policy': 'compact', 'max.message.bytes': String(MAX_CHECKPOINT_BYTES) },
  };
}

/** Partition p's checkpoint: to partition p of the checkpoint topic, key `<sourceTopic>/<p>`. */
export function checkpointRecord(
  sourceTopic: string,
  partition: number,
  json: Buffer,
): { partition: number; key: string; value: Buffer } {
  return { partition, key: `${sourceTopic}/${partition}`, value: json };
}

/** A status record from its bytes; undefined (counted as skipped) when it is not one. */
export function parseStatus(value: Buffer | null): GatewayStatusRecord | undefined {
  try {
    const r = checkStatusRecord(JSON.parse(value?.toString() ?? ''));
    return r.ok ? r.record : undefined;
  } catch {
    return undefined; // not JSON: counted as skipped
  }
}

/** Refuses a checkpoint topic with fewer partitions than the readings topic. */
export function checkCheckpointPartitions(topic: string, have: number, need: number): void {
  if (have < need)
    throw new CheckpointError(
      `checkpoint topic ${topic} has ${have} partitions, the readings topic ${need}; give it at least as many`,
      { retriable: false },
    );
}

/** Publishes one checkpoint record, gzipped (either client's publisher). */
export function saveCheckpoint(
  publisher: {
    send(
      topic: string,
      records: ReturnType<typeof checkpointRecord>[],
      o: { gzip: boolean },
    ): Promise<void>;
  },
  topics: { topic: string; sourceTopic: string },
  partition: number,
  json: Buffer,
): Promise<void> {
  const record = checkpointRecord(topics.sourceTopic, partition, json);
  return publisher.send(topics.topic, [record], { gzip: true }).catch((err: unknown) => {
    if (!isMessageTooLarge(err)) throw err;
    throw new CheckpointTooLargeError(topics.topic, partition, record.value.length, err);
  });
}
