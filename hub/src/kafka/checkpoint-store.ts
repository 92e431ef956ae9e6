import { randomUUID } from 'node:crypto';
import { ensureTopics } from '@iot-stream/contracts';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import {
  CheckpointError,
  checkCheckpointPartitions,
  checkpointTopicSpec,
  saveCheckpoint,
} from '../kafka-common/records.ts';
import type { Checkpoint, CheckpointStore } from '../ports.ts';
import type { KafkaPublisher } from './publisher.ts';

export { CheckpointError };

export interface KafkaCheckpointStoreOptions {
  kafka: Kafka;
  publisher: KafkaPublisher;
  /** Compacted topic with as many partitions as the readings topic. */
  topic: string;
  /** The readings topic the checkpoints cover (part of the key). */
  sourceTopic: string;
  groupId: string;
  log: Logger;
  loadTimeoutMs?: number;
}

/**
 * Stream-core checkpoints in a compacted Kafka topic: the checkpoint of readings partition p
 * goes to partition p of the checkpoint topic, key `<sourceTopic>/<p>`, so the newest record
 * of a partition is its checkpoint and any hub of the group can load it after a rebalance.
 */
export class KafkaCheckpointStore implements CheckpointStore {
  private readonly admin: Admin;

  constructor(private readonly options: KafkaCheckpointStoreOptions) {
    this.admin = options.kafka.admin();
  }

  async init(partitions: number): Promise<void> {
    await this.admin.connect();
    await ensureTopics(
      this.admin,
      [checkpointTopicSpec(this.options.topic, partitions)],
      this.options.log,
    );
    const offsets = await this.admin.fetchTopicOffsets(this.options.topic);
    checkCheckpointPartitions(this.options.topic, offsets.length, partitions);
  }

  async close(): Promise<void> {
    await this.admin.disconnect();
  }

  save(partition: number, json: Buffer): Promise<void> {
    return saveCheckpoint(this.options.publisher, this.options, partition, json);
  }

  /** The newest checkpoint of each partition (absent: none yet). */
  async load(partitions: readonly number[]): Promise<Map<number, Checkpoint>> {
    const result = new Map<number, Checkpoint>();
    const offsets = await this.admin.fetchTopicOffsets(this.options.topic);
    const wanted = new Map<number, string>();
    for (const p of partitions) {
      const o = offsets.find((x) => x.partition === p);
      if (o && BigInt(o.high) > BigInt(o.low)) wanted.set(p, String(BigInt(o.high) - 1n));
    }
    if (wanted.size === 0) return result;
    const consumer = this.options.kafka.consumer({
      groupId: `${this.options.groupId}.checkpoint-reader.${randomUUID()}`,
      maxWaitTimeInMs: 100,
    });
    const timeoutMs = this.options.loadTimeoutMs ?? 30_000;
    let reseek: NodeJS.Timeout | undefined;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: this.options.topic, fromBeginning: false });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new CheckpointError(`checkpoints not read within ${timeoutMs} ms`)),
          timeoutMs,
        );
        // A crash kafkajs will not restart from (non-retriable) leaves every later seek
        // failing: fail the load now with the crash's error instead of at the timeout.
        consumer.on(consumer.events.CRASH, ({ payload }) => {
          if (payload.restart) return;
          clearTimeout(timer);
          reject(
            new CheckpointError(`checkpoint reader crashed: ${payload.error.message}`, {
              cause: payload.error,
            }),
          );
        });
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const target = wanted.get(partition);
              if (target === undefined || BigInt(message.offset) < BigInt(target)) return;
              if (message.value) result.set(partition, JSON.parse(message.value.toString()));
              wanted.delete(partition);
              if (wanted.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .then(() => {
            // A seek issued before the group assignment settles can be overridden by the
            // initial position (latest), so it is repeated until every checkpoint arrived.
            // kafkajs throws from seek while it restarts a crashed consumer (a broker went
            // away): that round is skipped (it crashed the hub, found by the scale-out test).
            const seek = () => {
              try {
                for (const [partition, offset] of wanted)
                  consumer.seek({ topic: this.options.topic, partition, offset });
              } catch (err) {
                this.options.log.warn({ err }, 'checkpoint reader not ready to seek; again in 2 s');
              }
            };
            seek();
            reseek = setInterval(seek, 2000);
          }, reject);
      });
    } finally {
      clearInterval(reseek);
      await consumer.disconnect().catch(() => undefined);
    }
    this.options.log.info({ partitions: [...result.keys()] }, 'checkpoints loaded');
    return result;
  }
}
