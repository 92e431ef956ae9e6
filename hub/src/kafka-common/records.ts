import {
  checkStatusRecord,
  type GatewayStatusRecord,
  IotError,
  type TopicSpec,
} from '@iot-stream/contracts';
import type { Checkpoint } from '../ports.ts';

// The record layouts both Kafka clients' adapters (kafka/, kafka-platformatic/) read and write,
// so hubs on either client share a group's checkpoints and topics.

export class CheckpointError extends IotError {
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super('CHECKPOINT_FAILED', message, { retriable: true, ...options });
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
  checkpoint: Checkpoint,
  json?: string,
): { partition: number; key: string; value: string } {
  return {
    partition,
    key: `${sourceTopic}/${partition}`,
    value: json ?? JSON.stringify(checkpoint),
  };
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
  checkpoint: Checkpoint,
  json?: string,
): Promise<void> {
  return publisher.send(
    topics.topic,
    [checkpointRecord(topics.sourceTopic, partition, checkpoint, json)],
    { gzip: true },
  );
}
