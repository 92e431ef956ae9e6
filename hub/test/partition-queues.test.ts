import { describe, expect, it } from 'vitest';
import type { PartitionFetch } from '../src/kafka-platformatic/fetch-tags.ts';
import { type Fetched, PartitionQueues } from '../src/kafka-platformatic/partition-queues.ts';

// The platformatic source's per-partition queues: records taken only in sequence from the
// position, batches cut by bytes, the stream paused by queued bytes.

function setup(maxQueued = 10_000, maxBatch = 1_000) {
  const positions: [number, bigint][] = [];
  const state = { paused: false };
  const queues = new PartitionQueues(
    {
      position: (p, offset) => void positions.push([p, offset]),
      pause: () => {
        state.paused = true;
      },
      resume: () => {
        state.paused = false;
      },
    },
    maxQueued,
    maxBatch,
  );
  return { queues, positions, state };
}

const fetch = (fetchedFrom: bigint, logStart = 0n): PartitionFetch => ({
  fetchedFrom,
  highWatermark: 1000n,
  logStart,
});
const message = (offset: bigint, bytes = 36): Fetched =>
  ({ partition: 0, offset, key: null, value: Buffer.alloc(bytes) }) as unknown as Fetched;

describe('PartitionQueues', () => {
  it('takes records in sequence from the position, in batches of the fetches they came with', () => {
    const { queues } = setup();
    queues.seek(0, 10n);
    const f1 = fetch(10n);
    const f2 = fetch(12n);
    expect([10n, 11n].map((o) => queues.receive(message(o), f1))).toEqual([true, true]);
    expect(queues.receive(message(11n), f1)).toBe(false); // queued already
    expect(queues.receive(message(12n), f2)).toBe(true);
    const batch = queues.take(0);
    expect(batch?.messages.map((m) => m.offset)).toEqual([10n, 11n, 12n]);
    expect(batch?.head).toMatchObject({ lastOffset: '12', fetchedFrom: '10' });
    expect(queues.waiting(0)).toBe(false);
  });

  it('a record past the next one is dropped and the position set back, unless the topic lost the records between', () => {
    const { queues, positions } = setup();
    queues.seek(0, 10n);
    // A fetch sent before the position was set: the topic still holds 10-19.
    expect(queues.receive(message(20n), fetch(20n, 0n))).toBe(false);
    expect(positions.at(-1)).toEqual([0, 10n]);
    // A later fetch that started past the log start: not the stream's out-of-range answer.
    expect(queues.receive(message(30n), fetch(30n, 15n))).toBe(false);
    expect(positions.at(-1)).toEqual([0, 10n]);
    // The stream's answer to an out-of-range position: fetched from the log start (15).
    expect(queues.receive(message(15n), fetch(15n, 15n))).toBe(true);
    expect(queues.take(0)?.head).toMatchObject({ lastOffset: '15', fetchedFrom: '15' });
  });

  it('pauses the stream while too many bytes wait and resumes it below half', () => {
    const { queues, state } = setup(300, 100);
    queues.seek(0, 0n);
    const f = fetch(0n);
    for (let o = 0n; o < 3n; o += 1n) queues.receive(message(o), f); // 100 bytes each
    expect(state.paused).toBe(true);
    expect(queues.take(0)?.messages.length).toBe(3); // one fetch's segment: one batch
    expect(state.paused).toBe(false);
  });
});
