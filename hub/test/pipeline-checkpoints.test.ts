import { describe, expect, it } from 'vitest';
import type { SourceBatch } from '../src/ports.ts';
import { MemoryCheckpoints, MemoryInflux } from './support/memory-stores.ts';
import { batches, stream, testPipeline } from './support/pipeline-fixture.ts';

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

const flush = (lastOffset: string): SourceBatch => ({
  partition: 0,
  lastOffset,
  highWatermark: lastOffset,
  records: [],
  invalid: [],
  flush: true,
});

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

  it('a dropped partition whose re-read records left the topic processes on from the oldest retained', async () => {
    // A failure after uncheckpointed batches sends the source back to the checkpoint; during
    // the outage, retention deleted the records from there, so Kafka fetches from the oldest.
    const retained = '400';
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
    // Sent back to 280, the source comes back from 400: gone, processed on (not refused forever).
    for (const b of all.slice(10)) expect(await a.pipeline.handle(b)).toMatch(/^-?\d+$/);
    expect(await a.pipeline.handle(flush(last))).toBe(last);
    const written = (i: number) => {
      const r = records[i] as (typeof records)[number];
      return [...a.influx.points.keys()].some(
        (k) =>
          k.startsWith('readings|') && k.includes(`"${r.deviceId}"`) && k.endsWith(`|${r.time}`),
      );
    };
    // Only the records the topic lost are missing (those also elsewhere in the stream aside).
    const key = (r: (typeof records)[number]) => `${r.deviceId}|${r.time}`;
    const elsewhere = new Set([...records.slice(0, 360), ...records.slice(400)].map(key));
    const lost = records.map((_, i) => i).filter((i) => i >= 360 && i < 400);
    const missing = records.map((_, i) => i).filter((i) => !written(i));
    expect(missing).toEqual(lost.filter((i) => !elsewhere.has(key(records[i] as never))));
    expect(missing.length).toBeGreaterThan(30);
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
