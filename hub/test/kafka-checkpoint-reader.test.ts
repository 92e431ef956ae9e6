import { KafkaJSNonRetriableError } from 'kafkajs';
import pino, { type Logger } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KafkaCheckpointStore } from '../src/kafka/checkpoint-store.ts';

// The checkpoint reader's seek against a consumer kafkajs is restarting (a broker went away
// while a hub loaded its checkpoints): kafkajs throws from seek then. A stand-in client: what
// is under test is the reader's handling of that throw, not Kafka (the scale-out test, which
// found it, kills brokers for real; the contract tests load checkpoints from a real Kafka).
/** A store over a checkpoint topic whose partition 0 holds offsets 0-7, read by `consumer`. */
function storeWith(consumer: object, log: Logger): KafkaCheckpointStore {
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    fetchTopicOffsets: async () => [{ partition: 0, offset: '8', high: '8', low: '0' }],
  };
  return new KafkaCheckpointStore({
    kafka: { admin: () => admin, consumer: () => consumer } as never,
    publisher: {} as never,
    topic: 'cp',
    sourceTopic: 'readings',
    groupId: 'g',
    log,
    loadTimeoutMs: 60_000,
  });
}

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
      events: { CRASH: 'consumer.crash' },
      on: () => undefined,
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
    const warnings: string[] = [];
    const store = storeWith(
      consumer,
      pino({ level: 'warn' }, { write: (l: string) => void warnings.push(JSON.parse(l).msg) }),
    );
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

  it('fails at once, naming the crash, when kafkajs will not restart the consumer', async () => {
    vi.useFakeTimers();
    const listeners: ((e: unknown) => void)[] = [];
    let runs = 0;
    const consumer = {
      events: { CRASH: 'consumer.crash' },
      on: (event: string, listener: (e: unknown) => void) => {
        if (event === 'consumer.crash') listeners.push(listener);
      },
      connect: async () => undefined,
      disconnect: async () => undefined,
      subscribe: async () => undefined,
      run: async () => {
        runs += 1;
      },
      seek: () => {
        throw new KafkaJSNonRetriableError(
          'Consumer group was not initialized, consumer#run must be called first',
        );
      },
    };
    const store = storeWith(consumer, pino({ level: 'silent' }));
    const loading = store.load([0]);
    const outcome = loading.then(
      () => 'loaded',
      (err: { code?: string; message: string }) => `${err.code}: ${err.message}`,
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    // A crash kafkajs restarts from changes nothing: the reseeks go on.
    for (const l of listeners)
      l({ payload: { error: new Error('coordinator is loading'), restart: true } });
    await vi.advanceTimersByTimeAsync(2000);
    let settled = '';
    void outcome.then((o) => {
      settled = o;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe('');
    for (const l of listeners)
      l({ payload: { error: new Error('The group is rebalancing'), restart: false } });
    await vi.advanceTimersByTimeAsync(0); // long before the 60 s timeout
    expect(settled).toBe('CHECKPOINT_FAILED: checkpoint reader crashed: The group is rebalancing');
  });
});
