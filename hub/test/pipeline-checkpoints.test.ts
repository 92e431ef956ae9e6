import { describe, expect, it } from 'vitest';
import type { SourceBatch } from '../src/ports.ts';
import { MemoryCheckpoints, MemoryInflux } from './support/memory-stores.ts';
import { batches, flush, stream, testPipeline } from './support/pipeline-fixture.ts';

// Checkpoints every N records or ms instead of every batch (PipelineOptions.checkpointEvery):
// `handle` then resolves with the offset the checkpoint covers, and only that is committed.
// Whatever the cadence, a crash and a resume from the committed offset, or a failed batch
// retried, must leave InfluxDB exactly as an uninterrupted run, and notify each event once.

function setup(
  every: { ms: number; records: number } | undefined,
  influx = new MemoryInflux(),
  checkpoints = new MemoryCheckpoints(),
  notified?: string[],
  retainedFrom?: (partition: number) => Promise<string>,
) {
  const pipeline = testPipeline({
    retainedFrom,
    store: influx,
    checkpoints,
    source: 'r',
    notifier: notified && { notify: async (n) => void notified.push(n.key) },
    checkpointEvery: every,
  });
  pipeline.assign([0]);
  return { pipeline, influx, checkpoints };
}

/** Checkpoints every N records, on a source that holds records from `retained()` on. */
const retaining = (retained: () => string) =>
  setup(EVERY, new MemoryInflux(), new MemoryCheckpoints(), undefined, async () => retained());

const settle = () => new Promise((r) => setTimeout(r, 10));

/**
 * A source as both real ones behave, reading from `from` in batches of `size`: the n-th batch
 * handed over (n in `failAt`, counted once each) fails its write and is offered again as it
 * was; a SOURCE_GAP answer makes it read on from the offset the pipeline asks for. Every
 * `flushAfterFailure` failure is followed by a flush. Resolves with the number of rewinds.
 */
async function readFrom(
  a: ReturnType<typeof setup>,
  start: number,
  size: number,
  failAt: Set<number>,
  flushAfterFailure = false,
): Promise<number> {
  let from = start;
  let n = 0;
  let rewinds = 0;
  while (from < records.length) {
    const b = batches(records, size, from)[0] as SourceBatch;
    if (failAt.delete(n)) {
      a.influx.failNext = 1;
      await expect(a.pipeline.handle(b)).rejects.toThrow('influx down');
      if (flushAfterFailure && n % 8 === 7) await a.pipeline.handle(flush(String(from - 1)));
    }
    n += 1;
    try {
      await a.pipeline.handle(b);
      from = Number(b.lastOffset) + 1;
    } catch (err) {
      expect(err).toMatchObject({ code: 'SOURCE_GAP' });
      rewinds += 1;
      from = Number((err as { next: string }).next);
    }
  }
  return rewinds;
}
const records = stream(1500, 11);
const last = String(records.length - 1);
const EVERY = { ms: 3_600_000, records: 250 };

describe('pipeline: checkpoints every N records', () => {
  it('writes what per-batch checkpoints write, with fewer checkpoints; commits only what they cover', async () => {
    const reference = setup(undefined);
    for (const b of batches(records, 40)) await reference.pipeline.handle(b);

    const a = setup(EVERY);
    let committed = -1;
    for (const b of batches(records, 40)) {
      const covered = Number(await a.pipeline.handle(b));
      expect(covered).toBeGreaterThanOrEqual(committed);
      expect(covered).toBeLessThanOrEqual(Number(b.lastOffset));
      committed = covered;
    }
    expect(committed).toBeLessThan(records.length - 1);
    expect(await a.pipeline.handle(flush(last))).toBe(last);
    expect(a.influx.sorted()).toEqual(reference.influx.sorted());
    expect(a.checkpoints.saves).toBeLessThan(reference.checkpoints.saves / 3);
    expect(a.pipeline.counters.checkpoints).toBe(a.checkpoints.saves);
  });

  it('after a crash, resumes from the committed offset and the checkpoint: same InfluxDB, each notification once', async () => {
    const referenceNotified: string[] = [];
    const reference = setup(undefined, undefined, undefined, referenceNotified);
    for (const b of batches(records, 40)) await reference.pipeline.handle(b);
    await settle();

    for (const crashAfter of [3, 11, 26]) {
      const influx = new MemoryInflux();
      const checkpoints = new MemoryCheckpoints();
      const notified: string[] = [];
      const first = setup(EVERY, influx, checkpoints, notified);
      let committed = -1;
      for (const b of batches(records, 40).slice(0, crashAfter))
        committed = Number(await first.pipeline.handle(b));
      await settle();
      // SIGKILL: the uncommitted rest is consumed again, in other boundaries, by a new hub.
      const second = setup(EVERY, influx, checkpoints, notified);
      for (const b of batches(records, 33, committed + 1)) await second.pipeline.handle(b);
      expect(await second.pipeline.handle(flush(last))).toBe(last);
      await settle();
      expect(influx.sorted()).toEqual(reference.influx.sorted());
      expect([...notified].sort()).toEqual([...referenceNotified].sort());
    }
  });

  it('a batch still writing when the partition is reassigned leaves the new assignment alone', async () => {
    const reference = setup(undefined);
    for (const b of batches(records, 40)) await reference.pipeline.handle(b);

    const a = setup(EVERY);
    const all = batches(records, 40);
    let committed = -1;
    for (const b of all.slice(0, 9)) committed = Number(await a.pipeline.handle(b));
    // Batch 9's write hangs; meanwhile the group is rejoined (the partition stays here) and
    // the source fetches again from the committed offset, in other boundaries.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const write = a.influx.writeBatch.bind(a.influx);
    a.influx.writeBatch = async (b) => {
      await gate;
      return write(b);
    };
    const stale = a.pipeline.handle(all[9] as SourceBatch);
    await settle();
    a.influx.writeBatch = write;
    a.pipeline.assign([0]);
    const again = batches(records, 33, committed + 1);
    for (const b of again.slice(0, 3)) await a.pipeline.handle(b);
    release();
    expect(await stale).toBe('-1'); // nothing of it is covered: the source leaves it unresolved
    // A failure rebuilds the processor from the checkpoint; the source reads on from there.
    const rewinds = await readFrom(a, Number(again[3]?.records[0]?.offset), 33, new Set([2]));
    expect(rewinds).toBe(1);
    expect(await a.pipeline.handle(flush(last))).toBe(last);
    expect(a.influx.sorted()).toEqual(reference.influx.sorted());
  });

  it('a batch fetched past what the state holds is refused: the source fetches again from there, unless those records are gone', async () => {
    const reference = setup(undefined);
    for (const b of batches(records, 40)) await reference.pipeline.handle(b);

    const a = setup(EVERY);
    const fetched = (b: SourceBatch) => ({ ...b, fetchedFrom: b.records[0]?.offset });
    const all = batches(records, 40).map(fetched);
    for (const b of all.slice(0, 5)) await a.pipeline.handle(b);
    // Offsets 200-239 never reached the state (a rejoin left kafkajs fetching on from 240).
    await expect(a.pipeline.handle(all[6] as SourceBatch)).rejects.toMatchObject({
      code: 'SOURCE_GAP',
      next: '200',
    });
    for (const b of batches(records, 33, 200).map(fetched)) await a.pipeline.handle(b);
    expect(await a.pipeline.handle(flush(last))).toBe(last);
    expect(a.influx.sorted()).toEqual(reference.influx.sorted());

    // Past the same offset again: the topic still holds it (a batch fetched before the
    // send-back), so sent back again, as often as it comes; once it is gone, processed on.
    let retained = '0';
    const b = retaining(() => retained);
    for (const x of all.slice(0, 5)) await b.pipeline.handle(x);
    for (let i = 0; i < 3; i += 1)
      await expect(b.pipeline.handle(all[6] as SourceBatch)).rejects.toThrow(/needs 200 next/);
    retained = '240';
    expect(await b.pipeline.handle(all[6] as SourceBatch)).toBe('-1');
    expect(await b.pipeline.handle(all[7] as SourceBatch)).toBe('319'); // moved on, checkpointed
  });

  /**
   * A failure after uncheckpointed batches sends the source back to the checkpoint (280);
   * during the outage, retention deleted the records before `retained`. Resolves with the
   * pipeline and the records the InfluxDB store lacks.
   */
  async function outage(retained: string, resumeFrom: number, expectBack?: string) {
    const a = retaining(() => retained);
    const fetched = (b: SourceBatch) => ({ ...b, fetchedFrom: b.records[0]?.offset });
    const all = batches(records, 40).map(fetched);
    for (const b of all.slice(0, 7)) await a.pipeline.handle(b); // checkpoint covers 0-279
    for (const b of all.slice(7, 9)) await a.pipeline.handle(b); // 280-359, not checkpointed
    a.influx.failNext = 1;
    await expect(a.pipeline.handle(all[9] as SourceBatch)).rejects.toThrow('influx down');
    await expect(a.pipeline.handle(all[9] as SourceBatch)).rejects.toMatchObject({
      code: 'SOURCE_GAP',
      next: '280',
    });
    const rest = batches(records, 40, resumeFrom).map(fetched);
    if (expectBack !== undefined) {
      // Past the oldest record held: those between are read, not skipped.
      await expect(a.pipeline.handle(rest[0] as SourceBatch)).rejects.toMatchObject({
        code: 'SOURCE_GAP',
        next: expectBack,
      });
      rest.splice(0, rest.length, ...batches(records, 40, Number(expectBack)).map(fetched));
    }
    for (const b of rest) expect(await a.pipeline.handle(b)).toMatch(/^-?\d+$/);
    expect(await a.pipeline.handle(flush(last))).toBe(last);
    const key = (r: (typeof records)[number]) => `readings|{"device":"${r.deviceId}"`;
    const written = (i: number) => {
      const r = records[i] as (typeof records)[number];
      return [...a.influx.points.keys()].some(
        (k) => k.startsWith(key(r)) && k.endsWith(`|${r.time}`),
      );
    };
    return records.map((_, i) => i).filter((i) => !written(i));
  }

  /** Records in [from, to) not also elsewhere in the stream (a duplicate elsewhere is written). */
  function only(from: number, to: number): number[] {
    const id = (r: (typeof records)[number]) => `${r.deviceId}|${r.time}`;
    const elsewhere = new Set([...records.slice(0, from), ...records.slice(to)].map(id));
    return records
      .map((_, i) => i)
      .filter((i) => i >= from && i < to && !elsewhere.has(id(records[i] as never)));
  }

  it('a dropped partition whose re-read records left the topic processes on from the oldest one held', async () => {
    // Sent back to 280, the source comes back from 400, the oldest held: not refused forever.
    const missing = await outage('400', 400);
    expect(missing).toEqual(only(360, 400));
    expect(missing.length).toBeGreaterThan(30);
  });

  it('records the topic still holds are never skipped for records it lost', async () => {
    // The oldest held is 380, and a batch fetched before the send-back starts at 400: 280-379
    // are gone (360-379 never read), 380-399 are read again from the topic.
    const missing = await outage('380', 400, '380');
    expect(missing).toEqual(only(360, 380));
    expect(missing.length).toBeGreaterThan(10);
  });

  it('a failed batch after uncheckpointed ones sends the source back to the checkpoint, as often as it fails', async () => {
    const reference = setup(undefined);
    for (const b of batches(records, 40)) await reference.pipeline.handle(b);

    const a = setup(EVERY);
    const failAt = new Set(Array.from({ length: 40 }, (_, i) => 4 * i + 3));
    const planned = failAt.size;
    const rewinds = await readFrom(a, 0, 40, failAt, true);
    const failures = planned - failAt.size;
    await a.pipeline.handle(flush(last));
    expect(failures).toBeGreaterThan(20);
    expect(rewinds).toBeGreaterThan(5); // failures after uncheckpointed batches
    expect(a.influx.sorted()).toEqual(reference.influx.sorted());
    // The final checkpoint restores to the same state as the uninterrupted run's.
    const next = setup(EVERY, new MemoryInflux(), a.checkpoints);
    const tail = stream(1600).slice(records.length);
    const ref = setup(EVERY, new MemoryInflux(), reference.checkpoints);
    const more = batches([...records, ...tail], 40, records.length);
    for (const b of more) {
      await next.pipeline.handle(b);
      await ref.pipeline.handle(b);
    }
    expect(next.influx.sorted()).toEqual(ref.influx.sorted());
  });

  it('a partition failing after an acknowledged checkpoint reopens from the store, once per failure run', async () => {
    // The hub lets a kept copy go once the store has it (saved-checkpoints.ts): a failure then
    // reopens from the store's, and the copy it loaded serves the retries that follow.
    const reference = setup(undefined);
    for (const b of batches(records, 40)) await reference.pipeline.handle(b);
    const a = setup(undefined); // a checkpoint every batch
    const all = batches(records, 40);
    for (const [i, b] of all.entries()) {
      if (i % 5 === 4) {
        a.influx.failNext = 2; // two failed tries, then it goes through
        await expect(a.pipeline.handle(b)).rejects.toThrow('influx down');
        await expect(a.pipeline.handle(b)).rejects.toThrow('influx down');
      }
      await a.pipeline.handle(b);
    }
    const failureRuns = all.filter((_, i) => i % 5 === 4).length;
    expect(a.checkpoints.loads).toBe(1 + failureRuns); // the assignment's, then one a run
    expect(a.influx.sorted()).toEqual(reference.influx.sorted());
  });

  it('commits only what a stored checkpoint covers: after a failed checkpoint write, not before it is written again', async () => {
    const checkpoints = new MemoryCheckpoints();
    const a = setup(EVERY, new MemoryInflux(), checkpoints);
    const all = batches(records, 40);
    for (const b of all.slice(0, 6)) expect(await a.pipeline.handle(b)).toBe('-1'); // 240 records
    checkpoints.failNext = 1; // the checkpoint after 280 records fails to be written
    await expect(a.pipeline.handle(all[6] as SourceBatch)).rejects.toThrow('checkpoint store down');
    // Offered again: the partition reopens from the checkpoint it kept, which covers the batch,
    // but no stored one does: nothing may be committed (a crash would resume from older state).
    expect(await a.pipeline.handle(all[6] as SourceBatch)).toBe('-1');
    expect(checkpoints.data.size).toBe(0);
    expect(await a.pipeline.handle(flush('279'))).toBe('279'); // written again now
    expect(JSON.parse(checkpoints.data.get(0) ?? '{}')).toMatchObject({ offset: '279' });
    for (const b of all.slice(7)) await a.pipeline.handle(b);
    const reference = setup(undefined);
    for (const b of all) await reference.pipeline.handle(b);
    expect(a.influx.sorted()).toEqual(reference.influx.sorted());
  });

  it("an earlier assignment's checkpoint, stored after a rebalance, is not what the new one commits", async () => {
    // The write of 0-279's checkpoint lands after the partition was reassigned here and
    // reopened without it: the new assignment's next checkpoint overwrites it, so it must not
    // answer 279 before then.
    const checkpoints = new MemoryCheckpoints();
    const a = setup(EVERY, new MemoryInflux(), checkpoints);
    const all = batches(records, 40);
    for (const b of all.slice(0, 6)) await a.pipeline.handle(b);
    let land: () => void = () => undefined;
    const save = checkpoints.save.bind(checkpoints);
    checkpoints.save = (p, c) =>
      new Promise<void>((resolve) => {
        land = () => void save(p, c).then(resolve);
      });
    const old = a.pipeline.handle(all[6] as SourceBatch); // its checkpoint's write hangs
    await settle();
    a.pipeline.assign([0]);
    checkpoints.save = save;
    expect(await a.pipeline.handle(all[0] as SourceBatch)).toBe('-1'); // opened without it
    land();
    expect(await old).toBe('-1');
    expect(await a.pipeline.handle(all[1] as SourceBatch)).toBe('-1');
  });

  it('a retention check that fails is retried with its own code, the partition listed as failing', async () => {
    const b = setup(EVERY, new MemoryInflux(), new MemoryCheckpoints(), undefined, async () => {
      throw new Error('broker unreachable');
    });
    const fetched = (x: SourceBatch) => ({ ...x, fetchedFrom: x.records[0]?.offset });
    const all = batches(records, 40).map(fetched);
    for (const x of all.slice(0, 5)) await b.pipeline.handle(x);
    await expect(b.pipeline.handle(all[6] as SourceBatch)).rejects.toMatchObject({ next: '200' });
    await expect(b.pipeline.handle(all[6] as SourceBatch)).rejects.toMatchObject({
      code: 'SOURCE_OFFSETS_FAILED',
    });
    expect(b.pipeline.failingPartitions()).toMatchObject([{ code: 'SOURCE_OFFSETS_FAILED' }]);
    // A failed batch drops the partition's core, so its source is sent back to the start (no
    // checkpoint yet) and reads it all again: nothing skipped.
    const from200 = batches(records, 40, 200).map(fetched);
    await expect(b.pipeline.handle(from200[0] as SourceBatch)).rejects.toMatchObject({ next: '0' });
    for (const x of all) await b.pipeline.handle(x);
    expect(b.pipeline.failingPartitions()).toEqual([]);
    const reference = setup(undefined);
    for (const x of batches(records, 40)) await reference.pipeline.handle(x);
    expect(b.influx.sorted()).toEqual(reference.influx.sorted());
  });

  it('a batch whose retention check outlives its assignment changes nothing', async () => {
    let answer: (offset: string) => void = () => undefined;
    const asked = new Promise<string>((resolve) => {
      answer = resolve;
    });
    const b = setup(EVERY, new MemoryInflux(), new MemoryCheckpoints(), undefined, () => asked);
    const fetched = (x: SourceBatch) => ({ ...x, fetchedFrom: x.records[0]?.offset });
    const all = batches(records, 40).map(fetched);
    for (const x of all.slice(0, 5)) await b.pipeline.handle(x);
    await expect(b.pipeline.handle(all[6] as SourceBatch)).rejects.toMatchObject({ next: '200' });
    const stale = b.pipeline.handle(all[6] as SourceBatch); // asks the source's retention
    await settle();
    b.pipeline.assign([0]);
    answer('240'); // "gone": it would process on, but the assignment moved on meanwhile
    expect(await stale).toBe('-1');
    expect(b.influx.writes).toBe(5);
  });

  it('a failed batch is not retried onto a core that lacks the batches before it', async () => {
    // Without a rewind the retry would be applied to the checkpoint's core, skipping 40-79.
    const a = setup(EVERY);
    const all = batches(records, 40);
    await a.pipeline.handle(all[0] as SourceBatch);
    await a.pipeline.handle(all[1] as SourceBatch);
    a.influx.failNext = 1;
    await expect(a.pipeline.handle(all[2] as SourceBatch)).rejects.toThrow('influx down');
    for (let i = 0; i < 3; i += 1)
      await expect(a.pipeline.handle(all[2] as SourceBatch)).rejects.toMatchObject({
        code: 'SOURCE_GAP',
        next: '0',
      });
    for (const b of all) await a.pipeline.handle(b);
    const reference = setup(undefined);
    for (const b of all) await reference.pipeline.handle(b);
    expect(a.influx.sorted()).toEqual(reference.influx.sorted());
  });
});
