import type { ReadingRecord } from '@iot-stream/contracts';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KafkaOutputs } from '../src/kafka/outputs.ts';
import { Pipeline } from '../src/pipeline/pipeline.ts';
import type { SourceBatch } from '../src/ports.ts';
import { record } from './support/evaluate.ts';
import { MemoryCheckpoints, MemoryInflux } from './support/memory-stores.ts';
import { batches, RULES, T0 } from './support/pipeline-fixture.ts';

// Time at the hub: quiet partitions are punctuated in their own time (never the hub's clock),
// the decision is checkpointed before it is applied; clock faults and refused records never
// stall or silence a partition.

interface Sent {
  topic: string;
  messages: { key?: unknown; headers?: Record<string, unknown> }[];
}

function setup(
  opts: {
    influx?: MemoryInflux;
    checkpoints?: MemoryCheckpoints;
    elapsed?: { ms: number };
    live?: () => boolean;
  } = {},
) {
  const sent: Sent[] = [];
  const influx = opts.influx ?? new MemoryInflux();
  const checkpoints = opts.checkpoints ?? new MemoryCheckpoints();
  const clock = opts.elapsed ?? { ms: 0 };
  const pipeline = new Pipeline({
    processor: {
      tickIntervalMs: 1000,
      maxAheadMs: 300_000,
      core: {
        rules: RULES,
        idleCloseMs: 60_000,
        windows: { sizesMs: [60_000], maxOutOfOrdernessMs: 30_000, allowedLatenessMs: 600_000 },
      },
    },
    store: influx,
    outputs: new KafkaOutputs(
      {
        send: async (topic, messages) => void sent.push({ topic, messages: messages as never }),
      },
      { deadLetter: 'dlq', anomalies: 'a' },
    ),
    checkpoints,
    source: 'r',
    log: pino({ level: 'silent' }),
    elapsed: () => clock.ms,
    live: opts.live,
  });
  pipeline.assign([0]);
  const to = (topic: string) => sent.filter((s) => s.topic === topic).flatMap((s) => s.messages);
  return { pipeline, influx, checkpoints, clock, sent, to };
}

/** One device alone in its partition, a reading a second, then silence. */
const lonely = (n: number, from = 0): ReadingRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    ...record('dev-0', from + i, T0 + (from + i) * 1000, { temperature: 20 }),
    receivedAt: T0 + (from + i) * 1000 + 5,
  }));

/** Kafka-like batches of `records` whose offsets start at `first` (a log that goes on). */
const at = (records: ReadingRecord[], first: number, size = records.length) =>
  batches(records, size).map((b) => ({
    ...b,
    lastOffset: String(Number(b.lastOffset) + first),
    highWatermark: String(first + records.length),
    records: b.records.map((r) => ({ ...r, offset: String(Number(r.offset) + first) })),
  }));

async function quietRun(p: ReturnType<typeof setup>, records = lonely(60)) {
  for (const b of batches(records, 60)) await p.pipeline.handle(b);
  p.clock.ms += 120_000; // two minutes without a record
  return p.pipeline.punctuateQuiet(5000);
}

afterEach(() => vi.useRealTimers());

describe('pipeline: punctuation of quiet partitions', () => {
  it('moves a quiet partition on in its own time: a silent device is reported, its windows close', async () => {
    const p = setup();
    expect(await quietRun(p)).toBe(1);
    const events = p.to('a').map((m) => m.headers?.['iot-episode-event']);
    expect(events).toContain('opened'); // the heartbeat rule's episode
    const aggregates = p.influx.sorted().filter(([k]) => k.startsWith('aggregates|'));
    expect(aggregates.length).toBeGreaterThan(0); // the last minute's window closed
    // Checkpointed after applying: the decision is no longer pending.
    const saved = JSON.parse(p.checkpoints.data.get(0) as string);
    expect(saved.ticks).toBeUndefined();
    expect(p.pipeline.counters.punctuations).toBe(1);
    // Nothing new since: the next round has nothing to do.
    expect(await p.pipeline.punctuateQuiet(5000)).toBe(0);
  });

  it('gives the same outputs whatever the hub clock says (1 h ahead, 1 h behind)', async () => {
    const run = async (offsetMs: number) => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(T0 + 60_000 + offsetMs);
      const p = setup();
      await quietRun(p);
      vi.useRealTimers();
      return { points: p.influx.sorted(), events: p.to('a').map((m) => m.headers) };
    };
    const base = await run(0);
    expect(await run(3_600_000)).toEqual(base);
    expect(await run(-3_600_000)).toEqual(base);
  });

  it('a hub stopped between deciding and applying applies the same punctuation on restart', async () => {
    const reference = setup();
    await quietRun(reference);
    reference.clock.ms += 1000;
    for (const b of at(lonely(10, 200), 60)) await reference.pipeline.handle(b);

    const influx = new MemoryInflux();
    const checkpoints = new MemoryCheckpoints();
    const first = setup({ influx, checkpoints });
    for (const b of batches(lonely(60), 60)) await first.pipeline.handle(b);
    first.clock.ms += 120_000;
    influx.failNext = 1; // the decision is checkpointed, then the write fails: the hub "dies"
    expect(await first.pipeline.punctuateQuiet(5000)).toBe(0);
    expect(JSON.parse(checkpoints.data.get(0) as string).ticks).toHaveLength(1);

    const second = setup({ influx, checkpoints }); // a new hub, long after: another clock
    second.clock.ms = 10_000_000;
    for (const b of at(lonely(10, 200), 60)) await second.pipeline.handle(b);
    expect(influx.sorted()).toEqual(reference.influx.sorted());
    expect(second.to('a').map((m) => m.headers)).toEqual(reference.to('a').map((m) => m.headers));
  });

  it('does not punctuate a partition that is behind, whose writes fail, or a source that is not fetching', async () => {
    let live = false;
    const p = setup({ live: () => live });
    expect(await quietRun(p)).toBe(0); // the source is cut off: silence is not quiet
    live = true;
    const [part1, part2] = at(lonely(60, 100), 60, 30);
    await p.pipeline.handle({ ...(part1 as SourceBatch), highWatermark: '1000' });
    p.clock.ms += 120_000;
    expect(await p.pipeline.punctuateQuiet(5000)).toBe(0); // 910 records still to read
    p.influx.failNext = 1;
    await expect(p.pipeline.handle(part2 as SourceBatch)).rejects.toThrow('influx down');
    expect(p.pipeline.failingPartitions()).toMatchObject([{ partition: 0, code: 'WRITE_FAILED' }]);
    p.clock.ms += 120_000;
    expect(await p.pipeline.punctuateQuiet(5000)).toBe(0);
    await p.pipeline.handle(part2 as SourceBatch);
    p.clock.ms += 120_000;
    expect(await p.pipeline.punctuateQuiet(5000)).toBe(1); // caught up, written: quiet now
    expect(p.pipeline.failingPartitions()).toEqual([]);
  });
});

describe('pipeline: clock faults and refused records', () => {
  it('dead-letters a reading stamped a year ahead; the device goes on as if it never came', async () => {
    const ahead = {
      ...record('dev-0', 30, T0 + 365 * 86_400_000, { temperature: 20 }),
      receivedAt: T0 + 30_005,
    };
    const recs = lonely(60);
    recs.splice(30, 0, ahead);
    const p = setup();
    for (const b of batches(recs, 20)) await p.pipeline.handle(b);
    const dead = p.to('dlq');
    expect(dead.map((m) => m.headers?.['iot-error-code'])).toEqual(['TIME_AHEAD']);
    expect(p.pipeline.counters).toMatchObject({ rejected: 1, tooLate: 0, readings: 60 });
  });

  it('stores the readings of a device whose clock jumped back an hour (too late for windows)', async () => {
    const recs = lonely(60);
    const back = lonely(30, 60).map((r) => ({ ...r, time: r.time - 3_600_000 }));
    const p = setup();
    for (const b of batches([...recs, ...back], 25)) await p.pipeline.handle(b);
    expect(p.to('dlq')).toEqual([]);
    expect(p.pipeline.counters).toMatchObject({ readings: 90, tooLate: 30 });
    const raw = p.influx.sorted().filter(([k]) => k.startsWith('readings|'));
    for (const r of back) expect(raw.some(([k]) => k.endsWith(`|${r.time}`))).toBe(true);
  });

  it('isolates a record the store refuses: dead-lettered, everything else written, no stall', async () => {
    const influx = new MemoryInflux();
    influx.refuse = (r) => r.gatewaySeq === 17 || r.gatewaySeq === 44;
    const p = setup({ influx });
    for (const b of batches(lonely(60), 25)) await p.pipeline.handle(b);
    const dead = p.to('dlq');
    expect(dead.map((m) => m.headers?.['iot-error-code'])).toEqual([
      'STORE_REJECTED',
      'STORE_REJECTED',
    ]);
    expect(p.pipeline.counters).toMatchObject({ writeRejected: 2, readings: 58 });
    expect(p.pipeline.failingPartitions()).toEqual([]);
    const reference = setup();
    for (const b of batches(
      lonely(60).filter((r) => !influx.refuse?.(r)),
      25,
    ))
      await reference.pipeline.handle(b);
    const raw = (m: MemoryInflux) => m.sorted().filter(([k]) => k.startsWith('readings|'));
    expect(raw(influx)).toEqual(raw(reference.influx));
  });
});

describe('pipeline: notifications', () => {
  it('forgets a delivered notification key: what it holds in flight stays bounded', async () => {
    let n = 0;
    const pipeline = new Pipeline({
      processor: {
        tickIntervalMs: 1000,
        core: {
          rules: [...RULES].filter((r) => r.detector === 'range'),
          windows: { sizesMs: [60_000], maxOutOfOrdernessMs: 0, allowedLatenessMs: 0 },
        },
      },
      store: new MemoryInflux(),
      outputs: new KafkaOutputs(
        { send: async () => undefined },
        { deadLetter: 'dlq', anomalies: 'a' },
      ),
      checkpoints: new MemoryCheckpoints(),
      source: 'r',
      log: pino({ level: 'silent' }),
      notifier: {
        notify: async () => {
          n += 1;
        },
      },
    });
    pipeline.assign([0]);
    // Many devices, each going out of range once: one notification each.
    const recs = Array.from({ length: 300 }, (_, i) => ({
      ...record(`dev-${i}`, i, T0 + i, { temperature: 99 }),
      receivedAt: T0 + i,
    }));
    for (const b of batches(recs, 50)) await pipeline.handle(b);
    await vi.waitFor(() => expect(n).toBe(300), { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 20));
    expect(pipeline.notificationsInFlight).toBe(0);
  });
});
