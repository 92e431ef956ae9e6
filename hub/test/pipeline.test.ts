import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { KafkaOutputs } from '../src/kafka/outputs.ts';
import type { Notifier } from '../src/notify/webhook.ts';
import { Pipeline } from '../src/pipeline/pipeline.ts';
import { MemoryCheckpoints, MemoryInflux } from './support/memory-stores.ts';
import { batches, PROCESSOR, stream } from './support/pipeline-fixture.ts';

function setup(
  influx = new MemoryInflux(),
  checkpoints = new MemoryCheckpoints(),
  notified: string[] | Notifier | undefined = undefined,
) {
  const sent: { topic: string; n: number }[] = [];
  const pipeline = new Pipeline({
    processor: PROCESSOR,
    store: influx,
    outputs: new KafkaOutputs(
      { send: async (topic, messages) => void sent.push({ topic, n: messages.length }) },
      { deadLetter: 'dlq', anomalies: 'a' },
    ),
    checkpoints,
    source: 'r',
    log: pino({ level: 'silent' }),
    notifier: Array.isArray(notified)
      ? { notify: async (n) => void notified.push(n.key) }
      : notified,
  });
  pipeline.assign([0]);
  return { pipeline, influx, checkpoints, sent };
}

describe('pipeline', () => {
  const records = stream(1500);

  it('gives the same InfluxDB contents whatever the batch boundaries', async () => {
    const a = setup();
    for (const b of batches(records, 500)) await a.pipeline.handle(b);
    const b = setup();
    for (const x of batches(records, 7)) await b.pipeline.handle(x);
    expect(b.influx.sorted()).toEqual(a.influx.sorted());
    expect(a.pipeline.counters).toMatchObject({ tooLate: 6 });
    expect(a.pipeline.counters.duplicates).toBeGreaterThan(20);
    expect(a.pipeline.counters.episodeEvents).toBeGreaterThan(10);
    const measurements = new Set(a.influx.sorted().map(([k]) => k.split('|')[0]));
    expect(measurements).toEqual(new Set(['readings', 'aggregates', 'anomalies']));
    // Too late for their windows, yet stored raw: nothing goes to the dead-letter topic.
    expect(a.sent.filter((s) => s.topic === 'dlq').reduce((n, s) => n + s.n, 0)).toBe(0);
    const rawKeys = a.influx.sorted().filter(([k]) => k.startsWith('readings|'));
    const tooLate = records.filter((r) => r.gatewaySeq >= 100_000);
    for (const r of tooLate)
      expect(rawKeys.some(([k]) => k.endsWith(`|${r.time}`) && k.includes(r.deviceId))).toBe(true);
  });

  it('after a crash, resumes from the checkpoint and redelivered batches change nothing', async () => {
    const a = setup();
    for (const b of batches(records, 100)) await a.pipeline.handle(b);
    // Crash after batch 6 was written but before its offset was committed: a new hub gets
    // batches 5.. again (the committed offset lags the checkpoint), in other boundaries.
    const influx = new MemoryInflux();
    const checkpoints = new MemoryCheckpoints();
    const first = setup(influx, checkpoints);
    for (const b of batches(records, 100).slice(0, 7)) await first.pipeline.handle(b);
    const second = setup(influx, checkpoints);
    for (const b of batches(records, 33, 500)) await second.pipeline.handle(b);
    expect(influx.sorted()).toEqual(a.influx.sorted());
  });

  it('a failed write is retried from the last checkpoint, not on a half-applied core', async () => {
    const a = setup();
    for (const b of batches(records, 100)) await a.pipeline.handle(b);
    const b = setup();
    for (const x of batches(records, 100)) {
      b.influx.failNext = 1;
      await expect(b.pipeline.handle(x)).rejects.toThrow('influx down');
      await b.pipeline.handle(x);
    }
    expect(b.influx.sorted()).toEqual(a.influx.sorted());
  });

  it('notifies each episode event once, across a crash and a redelivery', async () => {
    const reference: string[] = [];
    const a = setup(undefined, undefined, reference);
    for (const b of batches(records, 100)) await a.pipeline.handle(b);
    await new Promise((r) => setTimeout(r, 10));
    expect(reference.length).toBeGreaterThan(5);
    expect(new Set(reference).size).toBe(reference.length);

    const notified: string[] = [];
    const influx = new MemoryInflux();
    const checkpoints = new MemoryCheckpoints();
    const first = setup(influx, checkpoints, notified);
    for (const b of batches(records, 100).slice(0, 7)) await first.pipeline.handle(b);
    await new Promise((r) => setTimeout(r, 10));
    const second = setup(influx, checkpoints, notified);
    for (const b of batches(records, 33, 500)) await second.pipeline.handle(b);
    await new Promise((r) => setTimeout(r, 10));
    expect([...notified].sort()).toEqual([...reference].sort());
  });

  it('never repeats a notification a crashed hub was sending: skipped and counted instead', async () => {
    const reference: string[] = [];
    const a = setup(undefined, undefined, reference);
    for (const b of batches(records, 100)) await a.pipeline.handle(b);
    await new Promise((r) => setTimeout(r, 10));

    const influx = new MemoryInflux();
    const checkpoints = new MemoryCheckpoints();
    const hanging: string[] = []; // the hub "dies" while these requests are in flight
    const first = setup(influx, checkpoints, {
      notify: (n) => {
        hanging.push(n.key);
        return new Promise<void>(() => undefined);
      },
    });
    for (const b of batches(records, 100).slice(0, 7)) await first.pipeline.handle(b);
    await new Promise((r) => setTimeout(r, 10));
    expect(hanging.length).toBeGreaterThan(0);
    const notified: string[] = [];
    const second = setup(influx, checkpoints, notified);
    for (const b of batches(records, 33, 500)) await second.pipeline.handle(b);
    await new Promise((r) => setTimeout(r, 10));
    expect(notified.filter((k) => hanging.includes(k))).toEqual([]);
    expect(second.pipeline.counters.notificationsUncertain).toBe(hanging.length);
    expect([...hanging, ...notified].sort()).toEqual([...reference].sort());
  });
});
