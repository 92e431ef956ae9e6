import { describe, expect, it } from 'vitest';
import { type CheckpointEvery, MAX_PAUSE_MS } from '../src/pipeline/checkpoint-cadence.ts';
import type { SourceBatch } from '../src/ports.ts';
import { MemoryCheckpoints, MemoryInflux } from './support/memory-stores.ts';
import { batches, flush, stream, testPipeline } from './support/pipeline-fixture.ts';

// A checkpoint costs in proportion to its partition's state, not to the records since the last
// one (checkpoint-cadence.ts): a partition waits at least the last checkpoint costs of the
// partitions held, summed, x 100 / costPercent after its own, at most MAX_PAUSE_MS. A clock
// that moves only when told: each batch arrives BATCH_MS after the last, each checkpoint takes
// COST_MS of it.

const BATCH_MS = 100;
const COST_MS = 50;

/** Checkpoints whose writing (snapshot, JSON, gzip: the pipeline times them) takes COST_MS. */
class CostlyCheckpoints extends MemoryCheckpoints {
  constructor(private readonly clock: { now: number }) {
    super();
  }

  /** Added to the next saves' cost. */
  extraMs = 0;

  override save(p: number, json: Buffer): Promise<void> {
    this.clock.now += COST_MS + this.extraMs; // within the span the pipeline measures
    return super.save(p, json);
  }
}

function setup(every: CheckpointEvery, partitions = [0]) {
  const clock = { now: 0 };
  const influx = new MemoryInflux();
  const checkpoints = new CostlyCheckpoints(clock);
  const pipeline = testPipeline({
    store: influx,
    checkpoints,
    source: 'r',
    checkpointEvery: every,
    elapsed: () => clock.now,
  });
  pipeline.assign(partitions);
  return { pipeline, influx, checkpoints, clock };
}

const records = stream(600);
const last = String(records.length - 1);
/** Hands every batch over BATCH_MS apart; resolves with what each one's answer covered. */
async function run(a: ReturnType<typeof setup>): Promise<number[]> {
  const covered: number[] = [];
  for (const b of batches(records, 20)) {
    a.clock.now += BATCH_MS;
    covered.push(Number(await a.pipeline.handle(b)));
  }
  return covered;
}

describe('pipeline: checkpoints paced by their cost', () => {
  it('a partition whose checkpoints cost half its batch interval checkpoints a fifth as often at 10%', async () => {
    const unpaced = setup({ ms: BATCH_MS, records: 1e9, costPercent: 100 });
    await run(unpaced);
    const paced = setup({ ms: BATCH_MS, records: 1e9, costPercent: 10 });
    const covered = await run(paced);

    // Unpaced: every batch after the first (the interval is reached at each; a checkpoint's
    // own 50 ms is within the 100 between batches). Paced: 500 ms after each one's end, so at
    // the 2nd batch and every 5th after it.
    const n = covered.length;
    expect(n).toBeGreaterThan(20);
    expect(unpaced.checkpoints.saves).toBe(n - 1);
    expect(paced.checkpoints.saves).toBe(Math.floor((n - 2) / 5) + 1);
    expect(paced.pipeline.counters.checkpointMs).toBe(paced.checkpoints.saves * COST_MS);
    expect(paced.pipeline.counters.checkpointMs / paced.clock.now).toBeLessThanOrEqual(0.1);
    // The same writes; commits move only to what the (fewer) checkpoints cover.
    expect(paced.influx.sorted()).toEqual(unpaced.influx.sorted());
    expect(new Set(covered).size).toBe(paced.checkpoints.saves + 1); // '-1' before the first
    expect(covered).toEqual([...covered].sort((x, y) => x - y));
  });

  it('counts what the partitions held cost: an idle one nothing, a second busy one as much again', async () => {
    const one = setup({ ms: BATCH_MS, records: 1e9, costPercent: 10 });
    const n = (await run(one)).length;
    const idle = setup({ ms: BATCH_MS, records: 1e9, costPercent: 10 }, [0, 1]);
    await run(idle); // partition 1 gets nothing
    expect(idle.checkpoints.saves).toBe(one.checkpoints.saves);

    const two = setup({ ms: BATCH_MS, records: 1e9, costPercent: 10 }, [0, 1]);
    for (const b of batches(records, 20)) {
      two.clock.now += BATCH_MS;
      await two.pipeline.handle(b);
      await two.pipeline.handle({ ...b, partition: 1 });
    }
    // Each waits for both partitions' last costs (100 ms) x 10: a round of both within 10%, but
    // for the first checkpoint of each, made before any cost was known.
    expect(two.pipeline.counters.checkpointMs / two.clock.now).toBeLessThanOrEqual(0.11);
    expect(two.checkpoints.saves).toBeLessThan(2 * one.checkpoints.saves);
    expect(two.checkpoints.saves).toBeGreaterThan(n / 10);
  });

  it('waits at most MAX_PAUSE_MS after one slow checkpoint (a long garbage collection in it, say)', async () => {
    const a = setup({ ms: BATCH_MS, records: 1e9, costPercent: 10 });
    const all = batches(records, 20);
    a.clock.now += BATCH_MS;
    await a.pipeline.handle(all[0] as SourceBatch);
    a.clock.now += BATCH_MS;
    a.checkpoints.extraMs = 20_000; // this one takes 20 s: 200 s of pause, were it not capped
    await a.pipeline.handle(all[1] as SourceBatch);
    a.checkpoints.extraMs = 0;
    expect(a.checkpoints.saves).toBe(1);
    a.clock.now += MAX_PAUSE_MS - 1;
    await a.pipeline.handle(all[2] as SourceBatch);
    expect(a.checkpoints.saves).toBe(1);
    a.clock.now += 1;
    await a.pipeline.handle(all[3] as SourceBatch);
    expect(a.checkpoints.saves).toBe(2);
  });

  it('the record count is paced too', async () => {
    const a = setup({ ms: 1e9, records: 20, costPercent: 10 });
    const n = (await run(a)).length;
    expect(a.checkpoints.saves).toBe(Math.floor((n - 1) / 5) + 1); // due from the 1st batch on
  });

  it("a flush waits for the cost too, and checkpoints once it allows; the source's next flush commits it", async () => {
    const a = setup({ ms: BATCH_MS, records: 1e9, costPercent: 10 });
    const covered = await run(a);
    const durable = covered.at(-1) as number;
    expect(durable).toBeLessThan(Number(last));

    // Too soon after the last checkpoint (500 ms of the clock have not passed): not yet.
    expect(await a.pipeline.handle(flush(last))).toBe(String(durable));
    const saves = a.checkpoints.saves;
    a.clock.now += 10 * COST_MS;
    expect(await a.pipeline.handle(flush(last))).toBe(last);
    expect(a.checkpoints.saves).toBe(saves + 1);
  });

  it('after a crash between paced checkpoints, a new hub resumes from the committed offset: the same InfluxDB', async () => {
    const reference = setup({ ms: BATCH_MS, records: 1e9, costPercent: 100 });
    await run(reference);
    const a = setup({ ms: BATCH_MS, records: 1e9, costPercent: 10 });
    const all = batches(records, 20);
    let committed = -1;
    for (const b of all.slice(0, 15)) {
      a.clock.now += BATCH_MS;
      committed = Number(await a.pipeline.handle(b));
    }
    expect(committed).toBeLessThan(Number(all[14]?.lastOffset)); // checkpointed at the 12th
    // The crash: a new pipeline over the same stores, from the committed offset on.
    const b = testPipeline({
      store: a.influx,
      checkpoints: a.checkpoints,
      source: 'r',
      checkpointEvery: { ms: BATCH_MS, records: 1e9, costPercent: 10 },
      elapsed: () => a.clock.now,
    });
    b.assign([0]);
    for (const batch of batches(records, 20, committed + 1)) {
      a.clock.now += BATCH_MS;
      await b.handle(batch);
    }
    expect(a.influx.sorted()).toEqual(reference.influx.sorted());
  });
});
