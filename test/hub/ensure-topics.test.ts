import { randomBytes } from 'node:crypto';
import { ensureTopics } from '@iot-stream/contracts';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { checkpointTopicSpec, MAX_CHECKPOINT_BYTES } from '../../hub/src/kafka-common/records.ts';
import { topicShape } from './support.ts';

// ensureTopics (contracts' kafka.ts) on a real Kafka: the topics a hub needs, those missing
// created in one request (one of them compacted, as a checkpoint topic), the existing one left
// as it is, a second call a no-op.
const brokers = inject('kafkaBrokers');
const run = randomBytes(4).toString('hex');
const admin = new Kafka({ brokers, clientId: 'ensure-topics', logLevel: logLevel.NOTHING }).admin();
afterAll(() => admin.disconnect());

describe('ensureTopics', () => {
  it('creates the missing topics with their partitions and keeps the existing one', async () => {
    await admin.connect();
    const [existing, a, b, compacted] = ['existing', 'a', 'b', 'compacted'].map(
      (t) => `ensure-${t}-${run}`,
    ) as [string, string, string, string];
    await admin.createTopics({
      topics: [{ topic: existing, numPartitions: 2 }],
      waitForLeaders: true,
    });
    const logged: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(line) });
    const wanted = [
      { topic: existing, partitions: 5 },
      { topic: a, partitions: 3 },
      { topic: b, partitions: 1 },
      { topic: a, partitions: 3 }, // named twice: created once
      checkpointTopicSpec(compacted, 4),
    ];
    await ensureTopics(admin, wanted, log);
    const partitions = async (topic: string) => (await admin.fetchTopicOffsets(topic)).length;
    expect(await partitions(existing)).toBe(2);
    expect(await partitions(a)).toBe(3);
    expect(await partitions(b)).toBe(1);
    expect(await partitions(compacted)).toBe(4);
    const configs = async (topic: string) => (await topicShape(brokers, topic)).configs;
    expect(await configs(compacted)).toMatchObject({
      'cleanup.policy': 'compact',
      'max.message.bytes': String(MAX_CHECKPOINT_BYTES),
    });
    expect((await configs(a))['cleanup.policy']).toBe('delete');
    expect(logged.filter((l) => l.includes('created Kafka topic'))).toHaveLength(3);
    await ensureTopics(admin, wanted, log);
    expect(logged.filter((l) => l.includes('created Kafka topic'))).toHaveLength(3);
  });
});
