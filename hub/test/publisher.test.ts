import { IncompleteAckError, isProducerStateError } from '@iot-stream/contracts';
import type { ICustomPartitioner, Message, Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaPublisher } from '../src/kafka/publisher.ts';

/** A producer whose sends fail with `fail` until it is replaced. */
function fakeProducers(fail: unknown) {
  const made: { sent: number; disconnected: boolean }[] = [];
  const factory = () => {
    const me = { sent: 0, disconnected: false };
    made.push(me);
    const broken = made.length === 1;
    return {
      connect: async () => {},
      disconnect: async () => {
        me.disconnected = true;
      },
      send: async () => {
        if (broken) throw fail;
        me.sent += 1;
        return [];
      },
    } as unknown as Producer;
  };
  return { made, factory };
}

describe('KafkaPublisher', () => {
  it('replaces a producer whose state the broker lost (kafkajs #598), so later sends get through', async () => {
    const err = Object.assign(new Error('The broker received an out of order sequence number'), {
      type: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
    });
    const { made, factory } = fakeProducers(err);
    const publisher = new KafkaPublisher(factory);
    await expect(publisher.send('t', [{ value: 'a' }])).rejects.toBe(err);
    await publisher.send('t', [{ value: 'a' }]);
    expect(made).toHaveLength(2);
    expect(made[0]?.disconnected).toBe(true);
    expect(made[1]?.sent).toBe(1);
    expect(publisher.replacements).toBe(1);
  });

  it('keeps the producer on other errors (kafkajs retries those itself)', async () => {
    const { made, factory } = fakeProducers(new Error('Connection error: ECONNREFUSED'));
    const publisher = new KafkaPublisher(factory);
    await expect(publisher.send('t', [{ value: 'a' }])).rejects.toThrow(/ECONNREFUSED/);
    await expect(publisher.send('t', [{ value: 'a' }])).rejects.toThrow(/ECONNREFUSED/);
    expect(made).toHaveLength(1);
    expect(isProducerStateError({ type: 'UNKNOWN_PRODUCER_ID' })).toBe(true);
    expect(isProducerStateError(new Error('timeout'))).toBe(false);
  });
});

describe('KafkaPublisher acknowledgement check', () => {
  it('rejects a send whose result lacks a partition it wrote to, and resends through a new producer', async () => {
    const partitionMetadata = [0, 1, 2].map((partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: partitionId + 1,
      replicas: [1, 2, 3],
      isr: [1, 2, 3],
    }));
    let made = 0;
    const factory = (createPartitioner: ICustomPartitioner) => {
      made += 1;
      const partitioner = createPartitioner();
      const incomplete = made === 1; // as kafkajs #1303: partition 0's share sent nowhere
      return {
        connect: async () => {},
        disconnect: async () => {},
        send: async ({ topic, messages }: { topic: string; messages: Message[] }) => {
          const partitions = new Set(
            messages.map((message) => partitioner({ topic, partitionMetadata, message })),
          );
          return [...partitions]
            .filter((p) => !(incomplete && p === 0))
            .map((partition) => ({ topicName: topic, partition, errorCode: 0 }));
        },
      } as unknown as Producer;
    };
    const publisher = new KafkaPublisher(factory);
    const messages = Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    await expect(publisher.send('t', messages)).rejects.toBeInstanceOf(IncompleteAckError);
    await publisher.send('t', messages);
    expect(made).toBe(2);
    expect(publisher.replacements).toBe(1);
  });
});
