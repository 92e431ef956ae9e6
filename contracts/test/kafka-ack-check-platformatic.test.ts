import {
  type ClusterMetadata,
  compatibilityPartitioner,
  MultipleErrors,
  type ProduceResult,
  ProtocolError,
} from '@platformatic/kafka';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isMessageTooLarge, isProducerStateError } from '../src/kafka.ts';
import { IncompleteAckError } from '../src/kafka-ack-check.ts';
import { PlatformaticAckCheck } from '../src/kafka-ack-check-platformatic.ts';

const topic = 'readings';
const PARTITIONS = 6;
const messages = Array.from({ length: 24 }, (_, i) => ({ topic, key: `dev-${i}`, value: `${i}` }));
const metadata = {
  topics: new Map([[topic, { partitionsCount: PARTITIONS }]]),
} as unknown as ClusterMetadata;

/**
 * Calls the partitioner for every message as @platformatic/kafka's send does, reduces modulo
 * the partition count, and answers with an offset for the partitions `answered` keeps.
 */
function fakeSend(check: PlatformaticAckCheck, answered: (p: number) => boolean = () => true) {
  const partitioner = check.partitioner(compatibilityPartitioner);
  return async (): Promise<ProduceResult> => {
    const partitions = new Set(
      messages.map((m) => partitioner(m, Buffer.from(m.key), { metadata: undefined }) % PARTITIONS),
    );
    return {
      offsets: [...partitions]
        .filter(answered)
        .map((partition) => ({ topic, partition, offset: 1n })),
    };
  };
}

describe('PlatformaticAckCheck', () => {
  it('passes a send whose offsets cover every partition it wrote to', async () => {
    const check = new PlatformaticAckCheck();
    const result = await check.check(topic, fakeSend(check), () => metadata);
    expect(result.offsets?.length).toBeGreaterThan(1);
  });

  it('throws IncompleteAckError naming the partitions left out and their messages', async () => {
    const check = new PlatformaticAckCheck();
    const err = await check
      .check(
        topic,
        fakeSend(check, (p) => p !== 2),
        () => metadata,
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IncompleteAckError);
    const incomplete = err as IncompleteAckError;
    expect(incomplete.missing).toEqual([2]);
    const onTwo = messages.filter((m) => compatibilityPartitioner(m, Buffer.from(m.key)) % 6 === 2);
    expect(incomplete.unwritten).toBe(onTwo.length);
    expect(incomplete.message).toMatch(/^@platformatic\/kafka acknowledged/);
  });

  it('counts every message as unacknowledged without a partition count', async () => {
    const check = new PlatformaticAckCheck();
    await expect(check.check(topic, fakeSend(check), () => undefined)).rejects.toThrow(
      IncompleteAckError,
    );
  });

  it('puts a key on the partition kafkajs (and Java) puts it on', () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 1,
      replicas: [1],
      isr: [1],
    }));
    for (let i = 0; i < 500; i += 1) {
      const key = `device-${i}`;
      const ours = compatibilityPartitioner({ topic, key }, Buffer.from(key));
      expect(ours % PARTITIONS, key).toBe(
        kafkajs({ topic, partitionMetadata, message: { key, value: '' } }),
      );
    }
  });
});

describe('PlatformaticAckCheck with partitions the caller chose', () => {
  it("checks messages the library does not partition (the hub's checkpoints)", async () => {
    const check = new PlatformaticAckCheck();
    const chosen = [
      { topic, key: 'a', value: '1', partition: 3 },
      { topic, key: 'b', value: '2', partition: 4 },
    ];
    const answer = (partitions: number[]) => async (): Promise<ProduceResult> => ({
      offsets: partitions.map((partition) => ({ topic, partition, offset: 1n })),
    });
    await expect(check.check(topic, answer([3, 4]), () => metadata, chosen)).resolves.toBeTruthy();
    const err = await check
      .check(topic, answer([4]), () => metadata, chosen)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IncompleteAckError);
    expect((err as IncompleteAckError).missing).toEqual([3]);
    expect((err as IncompleteAckError).unwritten).toBe(1);
  });
});

describe('isProducerStateError with @platformatic/kafka errors', () => {
  it('finds the broker error nested in MultipleErrors', () => {
    const nested = new MultipleErrors('Producing messages failed.', [
      new MultipleErrors('produce failed 1 times.', [
        new ProtocolError('OUT_OF_ORDER_SEQUENCE_NUMBER'),
      ]),
    ]);
    expect(isProducerStateError(nested)).toBe(true);
    expect(isProducerStateError(new ProtocolError('UNKNOWN_PRODUCER_ID'))).toBe(true);
    expect(
      isProducerStateError(
        new MultipleErrors('Producing messages failed.', [
          new ProtocolError('NOT_LEADER_OR_FOLLOWER'),
        ]),
      ),
    ).toBe(false);
  });
});

describe("isMessageTooLarge with either client's errors", () => {
  it("finds the broker's MESSAGE_TOO_LARGE nested in MultipleErrors, or as kafkajs types it", () => {
    const nested = new MultipleErrors('Producing messages failed.', [
      new MultipleErrors('produce failed 1 times.', [new ProtocolError('MESSAGE_TOO_LARGE')]),
    ]);
    expect(isMessageTooLarge(nested)).toBe(true);
    expect(isMessageTooLarge({ type: 'MESSAGE_TOO_LARGE', code: 10 })).toBe(true);
    expect(isMessageTooLarge(new Error('wrapped', { cause: { type: 'MESSAGE_TOO_LARGE' } }))).toBe(
      true,
    );
    expect(isMessageTooLarge(new ProtocolError('NOT_LEADER_OR_FOLLOWER'))).toBe(false);
    expect(isMessageTooLarge(new Error('message too large'))).toBe(false);
  });
});
