import { randomUUID } from 'node:crypto';
import { Consumer, ListOffsetTimestamps } from '@platformatic/kafka';
import type { Logger } from 'pino';
import {
  CheckpointError,
  checkCheckpointPartitions,
  checkpointTopicSpec,
  MAX_CHECKPOINT_BYTES,
  saveCheckpoint,
} from '../kafka-common/records.ts';
import type { Checkpoint, CheckpointStore } from '../ports.ts';
import type { PlatformaticConnection } from './connection.ts';
import type { PlatformaticPublisher } from './publisher.ts';
import { ensureTopics } from './topics.ts';

export interface PlatformaticCheckpointStoreOptions {
  connection: PlatformaticConnection;
  publisher: Pick<PlatformaticPublisher, 'send'>;
  /** Compacted topic with as many partitions as the readings topic. */
  topic: string;
  /** The readings topic the checkpoints cover (part of the key). */
  sourceTopic: string;
  groupId: string;
  log: Logger;
}

/**
 * Stream-core checkpoints in a compacted Kafka topic through @platformatic/kafka, laid out as
 * the kafkajs store lays them out (kafka/checkpoint-store.ts), so either client's hubs read
 * the other's: partition p's checkpoint is the newest record of partition p. Loading fetches
 * exactly that record (offset high watermark - 1) from the partition's leader: no consumer
 * group, no seeking.
 */
export class PlatformaticCheckpointStore implements CheckpointStore {
  private readonly reader: Consumer;

  constructor(private readonly options: PlatformaticCheckpointStoreOptions) {
    this.reader = new Consumer({
      ...options.connection,
      groupId: `${options.groupId}.checkpoint-reader.${randomUUID()}`,
    });
  }

  async init(partitions: number): Promise<void> {
    const counts = await ensureTopics(
      this.options.connection,
      [checkpointTopicSpec(this.options.topic, partitions)],
      this.options.log,
    );
    checkCheckpointPartitions(this.options.topic, counts.get(this.options.topic) ?? 0, partitions);
  }

  close(): Promise<void> {
    return this.reader.close();
  }

  save(partition: number, json: Buffer): Promise<void> {
    return saveCheckpoint(this.options.publisher, this.options, partition, json);
  }

  /** The newest checkpoint of each partition (absent: none yet). */
  async load(partitions: readonly number[]): Promise<Map<number, Checkpoint>> {
    const { topic } = this.options;
    const result = new Map<number, Checkpoint>();
    const list = (timestamp: bigint) =>
      this.reader.listOffsets({ topics: [topic], timestamp }).then((m) => m.get(topic) ?? []);
    const [highs, lows] = await Promise.all([
      list(ListOffsetTimestamps.LATEST),
      list(ListOffsetTimestamps.EARLIEST),
    ]);
    const wanted = partitions.filter((p) => (highs[p] ?? 0n) > (lows[p] ?? 0n));
    if (wanted.length === 0) return result;
    const metadata = await this.reader.metadata({ topics: [topic], forceUpdate: true });
    const meta = metadata.topics.get(topic);
    if (!meta) throw new CheckpointError(`checkpoint topic ${topic} not in the metadata`);
    await Promise.all(
      wanted.map(async (partition) => {
        const target = (highs[partition] as bigint) - 1n;
        const response = await this.reader.fetch({
          node: meta.partitions[partition]?.leader ?? -1,
          maxWaitTime: 0,
          maxBytes: 2 * MAX_CHECKPOINT_BYTES,
          topics: [
            {
              topicId: meta.id,
              partitions: [
                {
                  partition,
                  fetchOffset: target,
                  partitionMaxBytes: 2 * MAX_CHECKPOINT_BYTES,
                  currentLeaderEpoch: -1,
                  lastFetchedEpoch: -1,
                },
              ],
            },
          ],
        });
        for (const t of response.responses)
          for (const p of t.partitions)
            for (const batch of p.records ?? [])
              for (const r of batch.records)
                if (batch.firstOffset + BigInt(r.offsetDelta) === target && r.value)
                  result.set(partition, JSON.parse(r.value.toString()) as Checkpoint);
        if (!result.has(partition))
          throw new CheckpointError(
            `checkpoint of partition ${partition} (offset ${target}) not in the fetch`,
          );
      }),
    );
    this.options.log.info({ partitions: [...result.keys()] }, 'checkpoints loaded');
    return result;
  }
}
