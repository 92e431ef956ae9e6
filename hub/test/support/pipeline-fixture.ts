import type { ReadingRecord } from '@iot-stream/contracts';
import pino from 'pino';
import { parseRules } from '../../src/detect/rules.ts';
import { KafkaOutputs } from '../../src/kafka/outputs.ts';
import { Pipeline, type PipelineOptions } from '../../src/pipeline/pipeline.ts';
import type { SourceBatch } from '../../src/ports.ts';
import { record } from './evaluate.ts';
import { mulberry32 } from './synthetic.ts';

/** Shared by the pipeline tests: rules, a messy stream of readings, and its Kafka-like batches. */
export const T0 = Date.UTC(2026, 10, 22);

export const RULES = parseRules({
  rules: [
    { id: 'limits', metric: 'temperature', detector: 'range', params: { min: 0, max: 40 } },
    { id: 'silent', metric: 'temperature', detector: 'heartbeat', params: { expectedMs: 1000 } },
    // The default detector (none named): its state (~32 kB a series) goes into checkpoints too.
    { id: 'novel', metric: 'humidity', params: { warmup: 50, history: 200 } },
  ],
});

/** The processor the pipeline tests run: one-minute windows and RULES. */
export const PROCESSOR = {
  tickIntervalMs: 1000,
  core: {
    rules: RULES,
    idleCloseMs: 60_000,
    windows: { sizesMs: [60_000], maxOutOfOrdernessMs: 30_000, allowedLatenessMs: 600_000 },
  },
};

export /** Readings of 3 devices every second, with spikes, shuffles, duplicates, a silence and too-late ones. */
function stream(n: number, seed = 7): ReadingRecord[] {
  const rnd = mulberry32(seed);
  const out: ReadingRecord[] = [];
  for (let i = 0; i < n; i += 1) {
    const d = `dev-${i % 3}`;
    if (d === 'dev-2' && i > 300 && i < 600) continue; // silence: heartbeat episode
    const t = T0 + i * 1000 + Math.floor(rnd() * 20_000); // out of order within 20 s
    const v = i % 97 === 0 ? 80 : 20 + rnd();
    out.push(record(d, i, t, { temperature: v, humidity: 40 + rnd() }));
    if (i % 50 === 0) out.push({ ...(out.at(-1) as ReadingRecord) }); // duplicate
    if (i % 211 === 0 && i > 0) out.push(record(d, i + 100_000, t - 3_600_000, { temperature: 1 }));
  }
  return out.map((r, i) => ({ ...r, receivedAt: T0 + i * 1000 }));
}

/** What a source sends partition 0 when it went quiet with offsets uncheckpointed. */
export const flush = (lastOffset: string): SourceBatch => ({
  partition: 0,
  lastOffset,
  highWatermark: lastOffset,
  records: [],
  invalid: [],
  flush: true,
});

export function batches(records: ReadingRecord[], size: number, from = 0): SourceBatch[] {
  const out: SourceBatch[] = [];
  for (let i = from; i < records.length; i += size) {
    const slice = records.slice(i, i + size);
    out.push({
      partition: 0,
      lastOffset: String(i + slice.length - 1),
      highWatermark: String(records.length),
      records: slice.map((record, j) => ({ offset: String(i + j), record })),
      invalid: [],
    });
  }
  return out;
}

/**
 * A Pipeline over PROCESSOR whose Kafka outputs (dead letters, episode events) are discarded
 * and whose log is silent; the store, checkpoints and the rest as given.
 */
export function testPipeline(
  options: Pick<PipelineOptions, 'store' | 'checkpoints' | 'source'> & Partial<PipelineOptions>,
): Pipeline {
  return new Pipeline({
    processor: PROCESSOR,
    outputs: new KafkaOutputs(
      { send: async () => undefined },
      { deadLetter: 'dlq', anomalies: 'a' },
    ),
    log: pino({ level: 'silent' }),
    ...options,
  });
}
