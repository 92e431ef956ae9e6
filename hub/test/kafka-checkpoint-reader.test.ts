import { KafkaJSNonRetriableError } from 'kafkajs';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KafkaCheckpointStore } from '../src/kafka/checkpoint-store.ts';

// The checkpoint reader's seek against a consumer kafkajs is restarting (a broker went away
// while a hub loaded its checkpoints): kafkajs throws from seek then. A stand-in client: what
// is under test is the reader's handling of that throw, not Kafka (the scale-out test, which
// found it, kills brokers for real; the contract tests load checkpoints from a real Kafka).
describe('KafkaCheckpointStore.load while the consumer restarts', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('seeks again on the next round instead of crashing the hub', async () => {
    vi.useFakeTimers();
    const checkpoint = { v: 1, offset: '41', state: {}, pending: [] };
    let eachMessage: ((m: unknown) => Promise<void>) | undefined;
    const seeks: unknown[] = [];
    let refusals = 2;
    const consumer = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      subscribe: async () => undefined,
      run: async (o: { eachMessage: (m: unknown) => Promise<void> }) => {
        eachMessage = o.eachMessage;
      },
      seek: (s: unknown) => {
        if (refusals > 0) {
          refusals -= 1;
          throw new KafkaJSNonRetriableError(
            'Consumer group was not initialized, consumer#run must be called first',
          );
        }
        seeks.push(s);
      },
    };
    const admin = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      fetchTopicOffsets: async () => [{ partition: 0, offset: '8', high: '8', low: '0' }],
    };
    const warnings: string[] = [];
    const store = new KafkaCheckpointStore({
      kafka: { admin: () => admin, consumer: () => consumer } as never,
      publisher: {} as never,
      topic: 'cp',
      sourceTopic: 'readings',
      groupId: 'g',
      log: pino({ level: 'warn' }, { write: (l: string) => void warnings.push(JSON.parse(l).msg) }),
      loadTimeoutMs: 60_000,
    });
    const loading = store.load([0]);
    await vi.advanceTimersByTimeAsync(0); // the first seek: refused
    expect(seeks).toEqual([]);
    await vi.advanceTimersByTimeAsync(2000); // refused again
    expect(seeks).toEqual([]);
    await vi.advanceTimersByTimeAsync(2000); // the consumer is back
    expect(seeks).toEqual([{ topic: 'cp', partition: 0, offset: '7' }]);
    await eachMessage?.({
      partition: 0,
      message: { offset: '7', value: Buffer.from(JSON.stringify(checkpoint)) },
    });
    expect((await loading).get(0)).toEqual(checkpoint);
    expect(warnings).toEqual([
      'checkpoint reader not ready to seek; again in 2 s',
      'checkpoint reader not ready to seek; again in 2 s',
    ]);
  });
});
