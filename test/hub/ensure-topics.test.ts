import { randomBytes } from 'node:crypto';
import { ensureTopics } from '@iot-stream/contracts';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';

// ensureTopics (contracts' kafka.ts) on a real Kafka: the topics a hub needs, those missing
// created in one request, the existing one left as it is, a second call a no-op.
const brokers = inject('kafkaBrokers');
const run = randomBytes(4).toString('hex');
const admin = new Kafka({ brokers, clientId: 'ensure-topics', logLevel: logLevel.NOTHING }).admin();
afterAll(() => admin.disconnect());

describe('ensureTopics', () => {
  it('creates the missing topics with their partitions and keeps the existing one', async () => {
    await admin.connect();
    const [existing, a, b] = ['existing', 'a', 'b'].map((t) => `ensure-${t}-${run}`) as [
      string,
      string,
      string,
    ];
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
    ];
    await ensureTopics(admin, wanted, log);
    const partitions = async (topic: string) => (await admin.fetchTopicOffsets(topic)).length;
    expect(await partitions(existing)).toBe(2);
    expect(await partitions(a)).toBe(3);
    expect(await partitions(b)).toBe(1);
    expect(logged.filter((l) => l.includes('created Kafka topic'))).toHaveLength(2);
    await ensureTopics(admin, wanted, log);
    expect(logged.filter((l) => l.includes('created Kafka topic'))).toHaveLength(2);
  });
});
