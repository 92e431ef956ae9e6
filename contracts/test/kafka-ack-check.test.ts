import type { Message, PartitionMetadata, RecordMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { AckCheck, IncompleteAckError } from '../src/kafka-ack-check.ts';

const topic = 'readings';
const partitionMetadata = Array.from(
  { length: 6 },
  (_, partitionId): PartitionMetadata => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 1 + (partitionId % 3),
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
  }),
);
const messages: Message[] = Array.from({ length: 24 }, (_, i) => ({
  key: `dev-${i}`,
  value: String(i),
}));

/**
 * Calls the partitioner for every message as kafkajs's sendMessages does on each attempt, and
 * answers for the partitions `answered` keeps (all by default) with `errorCode`.
 */
function fakeSend(
  check: AckCheck,
  answered: (partition: number) => boolean = () => true,
  errorCode = 0,
) {
  const partitioner = check.createPartitioner();
  return async (): Promise<RecordMetadata[]> => {
    const partitions = new Set<number>();
    for (let attempt = 0; attempt < 2; attempt += 1)
      for (const message of messages)
        partitions.add(partitioner({ topic, partitionMetadata, message }));
    return [...partitions]
      .filter(answered)
      .map((partition) => ({ topicName: topic, partition, errorCode, baseOffset: '0' }));
  };
}

describe('AckCheck', () => {
  it('passes a send whose result covers every partition its messages went to', async () => {
    const check = new AckCheck();
    const result = await check.check(topic, fakeSend(check));
    expect(result.length).toBeGreaterThan(3); // 24 keys spread over the 6 partitions
  });

  it('throws when the result lacks a partition that got messages (kafkajs #1303)', async () => {
    const check = new AckCheck();
    const err = await check
      .check(
        topic,
        fakeSend(check, (p) => p !== 2),
      )
      .catch((e) => e);
    expect(err).toBeInstanceOf(IncompleteAckError);
    expect(err.missing).toEqual([2]);
    const { missing } = await check.observe(
      topic,
      fakeSend(check, (p) => p !== 2),
    );
    expect(err.unwritten).toBe(missing.messages.length);
    expect(missing.messages.length).toBeGreaterThan(0);
  });

  it('counts a partition answered with an error code as not acknowledged', async () => {
    const check = new AckCheck();
    await expect(
      check.check(
        topic,
        fakeSend(check, () => true, 6),
      ),
    ).rejects.toThrow(IncompleteAckError);
  });

  it('keeps kafkajs DefaultPartitioner placement (explicit partitions too)', async () => {
    const check = new AckCheck();
    const partitioner = check.createPartitioner();
    expect(
      partitioner({ topic, partitionMetadata, message: { key: 'x', value: 'v', partition: 4 } }),
    ).toBe(4);
    const { Partitioners } = await import('kafkajs');
    const plain = Partitioners.DefaultPartitioner();
    for (const message of messages)
      expect(partitioner({ topic, partitionMetadata, message })).toBe(
        plain({ topic, partitionMetadata, message }),
      );
  });
});
