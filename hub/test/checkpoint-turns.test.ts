import { describe, expect, it } from 'vitest';
import type { SourceBatch } from '../src/ports.ts';
import { MemoryCheckpoints, MemoryInflux } from './support/memory-stores.ts';
import { batches, stream, testPipeline } from './support/pipeline-fixture.ts';

// Checkpoints are made and stored one partition at a time (partition-checkpoints.ts): a
// checkpoint waits for the one before, whichever partition's, and what it holds is read when
// its turn comes. Each test holds a store write to make a checkpoint wait.

const records = stream(1500, 11);
const settle = () => new Promise((r) => setTimeout(r, 10));

/**
 * A checkpoint store whose writes for which `hold(partition)` is true wait until `release()`
 * (the latest held one); `started` lists the partitions whose writes began, in order.
 */
function holding(hold: (partition: number) => boolean) {
  const store = new MemoryCheckpoints();
  const started: number[] = [];
  let waiting: () => void = () => undefined;
  const held = {
    load: store.load.bind(store),
    async save(p: number, json: Buffer) {
      started.push(p);
      if (hold(p)) await new Promise<void>((r) => (waiting = r));
      await store.save(p, json);
    },
  };
  return { store, held, started, release: () => waiting() };
}

/**
 * A webhook whose first message waits until `releaseFirst()`; after `freeze()` every later one
 * waits for good. `notified`: the keys sent, in order.
 */
function firstHeld() {
  const notified: string[] = [];
  let releaseFirst: () => void = () => undefined;
  let first = true;
  let frozen = false;
  const notifier = {
    notify: async (n: { key: string }) => {
      if (first) {
        first = false;
        await new Promise<void>((r) => (releaseFirst = r));
      }
      if (frozen) await new Promise<void>(() => undefined);
      notified.push(n.key);
    },
  };
  return {
    notifier,
    notified,
    releaseFirst: () => releaseFirst(),
    freeze: () => {
      frozen = true;
    },
  };
}

describe('pipeline: one checkpoint at a time', () => {
  it("stores one partition's checkpoint at a time: the next is made once the store has the one before", async () => {
    // Each checkpoint in flight holds its JSON and the Kafka client's copy of it (tens of MB
    // at scale); partitions consumed concurrently must not all hold theirs at once.
    const { store: checkpoints, held: slow, started, release } = holding((p) => p === 0);
    const pipeline = testPipeline({
      store: new MemoryInflux(),
      checkpoints: slow,
      source: 'r',
      checkpointEvery: undefined,
    });
    pipeline.assign([0, 1]);
    const b = batches(records, 10)[0] as SourceBatch; // the same records in both partitions
    const first = pipeline.handle({ ...b, partition: 0 });
    await settle();
    const second = pipeline.handle({ ...b, partition: 1 });
    await settle();
    expect(started).toEqual([0]); // partition 1's waits, its state not yet encoded
    release();
    await expect(first).resolves.toBe('9');
    await expect(second).resolves.toBe('9');
    expect(started).toEqual([0, 1]);
    expect(checkpoints.saves).toBe(2);
  });

  it('a checkpoint waiting its turn across a new assignment is not made, nor taken as the new one', async () => {
    const { store, held, release } = holding((p) => p === 0);
    const pipeline = testPipeline({
      store: new MemoryInflux(),
      checkpoints: held,
      source: 'r',
      checkpointEvery: undefined,
    });
    pipeline.assign([0, 1]);
    const b = batches(records, 10)[0] as SourceBatch;
    const first = pipeline.handle({ ...b, partition: 0 });
    await settle();
    const second = pipeline.handle({ ...b, partition: 1 }); // waits for partition 0's
    await settle();
    pipeline.assign([0, 1]); // a rejoin, both batches still running
    release();
    await expect(first).resolves.toBe('-1');
    await expect(second).resolves.toBe('-1');
    expect(store.data.has(1)).toBe(false); // the old assignment's state, never stored
    // Nor does the new assignment take it as stored (it would commit what its state lacks).
    const { saved } = (pipeline as unknown as { states: { saved: { durable(p: number): string } } })
      .states;
    expect(saved.durable(1)).toBe('-1');
  });

  it('notifications delivered while a checkpoint waits its turn are not stored as still to send', async () => {
    let holdSaves = false;
    const { store, held, release: releaseSave } = holding((p) => p === 1 && holdSaves);
    const { notifier, notified, releaseFirst, freeze } = firstHeld();
    const pipeline = testPipeline({
      store: new MemoryInflux(),
      checkpoints: held,
      source: 'r',
      checkpointEvery: undefined,
      notifier,
    });
    pipeline.assign([0, 1]);
    const [a, b] = batches(stream(1200), 600) as [SourceBatch, SourceBatch];
    await pipeline.handle({ ...a, partition: 0 }); // notifications to send, the first held
    await settle();
    holdSaves = true;
    const p1 = pipeline.handle({ ...a, partition: 1 }); // its checkpoint's store write held
    await settle();
    const p0 = pipeline.handle({ ...b, partition: 0 }); // its checkpoint waits behind it
    await settle();
    releaseFirst(); // meanwhile partition 0's notifications go out
    await settle();
    await settle();
    freeze(); // (the rest never delivered)
    releaseSave();
    await p1;
    await p0;
    await settle();
    expect(notified.length).toBeGreaterThan(0);
    const newest = JSON.parse(store.data.get(0) as string) as { pending?: { key: string }[] };
    expect((newest.pending ?? []).filter((n) => notified.includes(n.key))).toEqual([]);
  });
});

describe("pipeline: the outbox's checkpoint rewrites take turns", () => {
  it("rewrites a partition's checkpoint for a notification only once another partition's checkpoint is stored", async () => {
    // A rewrite is the partition's whole checkpoint again (tens of MB at scale): with a webhook
    // and anomalies on many partitions, rewrites beside checkpoints held several at once.
    let holdSaves = false;
    const { held, started, release } = holding((p) => p === 1 && holdSaves);
    let inFlight = 0;
    let most = 0;
    const counted = {
      load: held.load,
      async save(p: number, json: Buffer) {
        inFlight += 1;
        most = Math.max(most, inFlight);
        try {
          await held.save(p, json);
        } finally {
          inFlight -= 1;
        }
      },
    };
    const { notifier, notified, releaseFirst } = firstHeld();
    const pipeline = testPipeline({
      store: new MemoryInflux(),
      checkpoints: counted,
      source: 'r',
      checkpointEvery: undefined,
      notifier,
    });
    pipeline.assign([0, 1]);
    const [a] = batches(stream(1200), 600) as [SourceBatch];
    await pipeline.handle({ ...a, partition: 0 }); // notifications to send, the first held
    await settle();
    holdSaves = true;
    const p1 = pipeline.handle({ ...a, partition: 1 }); // its checkpoint's store write held
    await settle();
    const before = started.length;
    expect(started.at(-1)).toBe(1);
    releaseFirst(); // delivered: partition 0's checkpoint is rewritten without it...
    await settle();
    expect(started.slice(before)).toEqual([]); // ...once partition 1's is stored, not before
    expect(notified).toHaveLength(1); // (the next waits for its own rewrite, marked as sent)
    release();
    await p1;
    await settle();
    await settle();
    expect(started.slice(before)).toContain(0);
    expect(most).toBe(1);
  });
});

describe('pipeline: a notification marked as being sent', () => {
  type Stored = { pending?: { key: string; attempted?: boolean }[] };
  const stored = (store: MemoryCheckpoints, p: number) =>
    JSON.parse(store.data.get(p) as string) as Stored;

  /** One batch's notifications on partition 0 through `checkpoints`; the keys sent, once settled. */
  async function burst(checkpoints: Pick<MemoryCheckpoints, 'load' | 'save'>) {
    const notified: string[] = [];
    const pipeline = testPipeline({
      store: new MemoryInflux(),
      checkpoints,
      source: 'r',
      checkpointEvery: undefined,
      notifier: { notify: async (n) => void notified.push(n.key) },
    });
    pipeline.assign([0]);
    const [a] = batches(stream(1200), 600) as [SourceBatch];
    await pipeline.handle({ ...a, partition: 0 });
    for (let i = 0; i < 50 && pipeline.notificationsInFlight > 0; i += 1) await settle();
    return notified;
  }

  it("shares a rewrite with the next one's mark: a burst of k costs k + 1 rewrites, not 2k", async () => {
    // Each rewrite is the partition's whole state again: at scale, most of what a burst costs.
    const store = new MemoryCheckpoints();
    const notified = await burst(store);
    expect(notified.length).toBeGreaterThan(2);
    expect(store.saves).toBe(1 + notified.length + 1); // the batch's, a mark each, the last's
    expect(stored(store, 0).pending ?? []).toEqual([]);
  });

  it('sent, is rewritten out by the last of the queue when the next marks are not stored', async () => {
    // The first is sent and its own rewrite left to the next one's mark, which fails, as do
    // the rest: had nothing rewritten it out, a crash would make it possibly undelivered.
    const store = new MemoryCheckpoints();
    let marks = 0;
    const notified = await burst({
      load: store.load.bind(store),
      async save(p: number, json: Buffer) {
        if (json.includes('"attempted":true') && ++marks > 1)
          throw new Error('checkpoint store down');
        await store.save(p, json);
      },
    });
    expect(notified).toHaveLength(1);
    const pending = stored(store, 0).pending ?? [];
    expect(pending.length).toBeGreaterThan(1); // the rest, still to send
    expect(pending.filter((n) => n.attempted || notified.includes(n.key))).toEqual([]);
  });

  it('whose mark could not be stored is not left marked in the newest checkpoint', async () => {
    // A later rewrite (the next notification's) is built from the newest checkpoint: had the
    // failed one stayed the newest, its mark would be stored without the message ever going
    // out, and a hub opening that checkpoint would take it as possibly sent and skip it.
    const store = new MemoryCheckpoints();
    let failMark = true;
    const failing = {
      load: store.load.bind(store),
      async save(p: number, json: Buffer) {
        if (failMark && json.includes('"attempted":true')) {
          failMark = false;
          throw new Error('checkpoint store down');
        }
        await store.save(p, json);
      },
    };
    const { notifier, notified } = firstHeld();
    const pipeline = testPipeline({
      store: new MemoryInflux(),
      checkpoints: failing,
      source: 'r',
      checkpointEvery: undefined,
      notifier,
    });
    pipeline.assign([0]);
    const [a] = batches(stream(1200), 600) as [SourceBatch];
    await pipeline.handle({ ...a, partition: 0 });
    await settle();
    const [first] = stored(store, 0).pending ?? [];
    expect(first).toBeDefined(); // still to send (its mark failed), the next one marked
    expect(notified).not.toContain(first?.key);
    expect(first?.attempted).toBeFalsy();
  });

  it('is not sent by a hub whose partition went to another hub and back meanwhile', async () => {
    // Hub 1's next notifications wait behind a held checkpoint while the partition goes to
    // hub 2, which sends them, and back: hub 1 must not send them again.
    let holdSaves = false;
    const { store, held, release } = holding((p) => p === 1 && holdSaves);
    const one = firstHeld();
    const two = { notified: [] as string[] }; // (hub 2's webhook is never held)
    const hub = (notifier: ReturnType<typeof firstHeld>['notifier']) =>
      testPipeline({
        store: new MemoryInflux(),
        checkpoints: held,
        source: 'r',
        checkpointEvery: undefined,
        notifier,
      });
    const hub1 = hub(one.notifier);
    const hub2 = hub({ notify: async (n) => void two.notified.push(n.key) });
    hub1.assign([0, 1]);
    const [a, b] = batches(stream(1200), 600) as [SourceBatch, SourceBatch];
    await hub1.handle({ ...a, partition: 0 }); // its first notification's send held
    await settle();
    holdSaves = true;
    const p1 = hub1.handle({ ...a, partition: 1 }); // its checkpoint's store write held
    await settle();
    one.releaseFirst(); // sent; its rewrite, and the next notification, wait their turn
    await settle();
    hub1.assign([1]);
    hub2.assign([0]);
    await hub2.handle({ ...b, partition: 0 }); // opens the checkpoint, sends what is left
    for (let i = 0; i < 20; i += 1) await settle();
    expect(two.notified.length).toBeGreaterThan(0);
    hub1.assign([0, 1]); // back
    const again = hub1.handle({ ...b, partition: 0 });
    await settle();
    release();
    await again;
    await p1;
    for (let i = 0; i < 20; i += 1) await settle();
    expect(one.notified.filter((k) => two.notified.includes(k))).toEqual([]);
    expect(stored(store, 0).pending ?? []).toEqual([]);
  });
});
