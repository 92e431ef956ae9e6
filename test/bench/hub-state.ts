// `npx tsx --expose-gc test/bench/hub-state.ts [series] [readings-per-series] [--metrics M]
// [--dedup N] [--only NAME] [--session] [--partitions P] [--heap-growing PERCENT]
// [--memory-limit MB]`: what the
// hub keeps per (device, metric) series, in bytes of V8 heap (plus ArrayBuffers) and of
// checkpoint (and compressed, as the hub holds each partition's newest until stored), for each detector and
// for windows alone, with the hub's default windows (1 min and 1 h); M metrics per device (default 1), stream.dedupRecordsPerDevice N (default 256);
// NAME picks rows whose name contains it. Each record has the device's seq (as MQTT readings
// must), and a session only with --session (without one, a device's dedup ids are its seq and
// event time). Drives the real Pipeline with one partition (P with --partitions: devices
// spread over them, as a hub owning P partitions), checkpointing as the hub does by default,
// with the hub's memory.heapGrowingPercent (or PERCENT); InfluxDB and Kafka outputs are
// discarded, so only the hub's own state remains. Also printed: records/s through the pipeline
// and the checkpoints made, this process's peak RSS (tsx and the records it makes included: an
// upper bound for a hub holding that many series, checkpoints and all; run one case a process
// with --only for its own peak), what the largest sampled RSS held (V8 heap, external memory,
// the rest) and the longest batch with its checkpoint. With --memory-limit (root) it runs in a
// memory cgroup of MB with the heap limit the hub's bin gives a process there, as in a
// container: the kernel kills it if it does not fit (scripts/lib/memory-cgroup.ts).
// The figures are for docs: README "Memory per series" and "100k series in one process".
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import type { ReadingRecord } from '@iot-stream/contracts';
import { Value } from '@sinclair/typebox/value';
import pino from 'pino';
import { HubConfigSchema } from '../../hub/src/config.ts';
import { parseRules } from '../../hub/src/detect/rules.ts';
import { KafkaOutputs } from '../../hub/src/kafka/outputs.ts';
import { setHeapGrowing } from '../../hub/src/ops/heap.ts';
import { Pipeline } from '../../hub/src/pipeline/pipeline.ts';
import { compressCheckpoint } from '../../hub/src/pipeline/saved-checkpoints.ts';
import type { SourceBatch } from '../../hub/src/ports.ts';
import { withinMemoryLimit } from '../../scripts/lib/memory-cgroup.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc (npx tsx --expose-gc test/bench/hub-state.ts)');
  process.exit(2);
}
const argv = process.argv.slice(2);
/** `--memory-limit MB`: the run inside a memory cgroup of MB (scripts/lib/memory-cgroup.ts), as a container. */
const LIMIT_MB = await withinMemoryLimit(argv);
const flag = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const METRICS = Number(flag('--metrics') ?? 1);
const DEDUP = Number(flag('--dedup') ?? 256);
const SESSION = argv.includes('--session');
const PARTITIONS = Number(flag('--partitions') ?? 1);
const [seriesArg, readingsArg] = argv.filter(
  (a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'),
);
const SERIES = Number(seriesArg ?? 10_000);
/** `--only NAME`: one row (a rule set's name, e.g. windows, novelty). */
const ONLY = flag('--only');
const READINGS = Number(readingsArg ?? 120); // per series, one every 10 s: 20 minutes
const STEP_MS = 10_000;
const T0 = Date.UTC(2026, 0, 1);
const { stream, memory } = Value.Default(HubConfigSchema, {}) as {
  memory: { heapGrowingPercent: number };
  stream: {
    windowsMs: number[];
    maxOutOfOrdernessMs: number;
    allowedLatenessMs: number;
    checkpointIntervalMs: number;
    checkpointMaxRecords: number;
    checkpointCostPercent: number;
  };
};

// As the hub sets it (memory.heapGrowingPercent): V8's own factor lets garbage grow to 4x.
setHeapGrowing(Number(flag('--heap-growing') ?? memory.heapGrowingPercent));

const CASES: Array<{ name: string; rules: unknown[] }> = [
  { name: 'windows only (no rule)', rules: [] },
  { name: 'range', rules: [{ id: 'r', metric: 't*', detector: 'range', params: { max: 100 } }] },
  { name: 'flatline', rules: [{ id: 'r', metric: 't*', detector: 'flatline' }] },
  { name: 'zscore', rules: [{ id: 'r', metric: 't*', detector: 'zscore' }] },
  { name: 'robust-zscore', rules: [{ id: 'r', metric: 't*', detector: 'robust-zscore' }] },
  { name: 'ewma', rules: [{ id: 'r', metric: 't*', detector: 'ewma' }] },
  { name: 'cusum', rules: [{ id: 'r', metric: 't*', detector: 'cusum' }] },
  { name: 'novelty (the default detector)', rules: [{ id: 'r', metric: 't*' }] },
];

/** V8 heap in use plus ArrayBuffers (the pipeline holds a checkpoint, compressed, until stored). */
function heap(): number {
  for (let i = 0; i < 3; i += 1) gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** What the resident set held when it was largest, sampled every 100 ms (MB). */
const atPeak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0 };
setInterval(() => {
  const m = process.memoryUsage();
  if (m.rss > atPeak.rss * 2 ** 20)
    for (const k of Object.keys(atPeak) as (keyof typeof atPeak)[]) atPeak[k] = m[k] / 2 ** 20;
}, 100).unref();

/** This process's peak resident set (VmHWM), MB. */
function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function measure(rules: unknown[]) {
  let checkpointBytes = 0;
  /** The final checkpoints compressed, as the hub holds each until stored (saved-checkpoints.ts), summed. */
  let keptBytes = 0;
  let checkpointMsMax = 0;
  let batchStarted = 0;
  /** Elapsed time skipped: after the run, as after a quiet while, so each partition checkpoints. */
  let skipped = 0;
  const pipeline = new Pipeline({
    processor: {
      tickIntervalMs: 10_000,
      core: {
        rules: parseRules({ rules }),
        windows: {
          sizesMs: stream.windowsMs,
          maxOutOfOrdernessMs: stream.maxOutOfOrdernessMs,
          allowedLatenessMs: stream.allowedLatenessMs,
          dedupRecordsPerDevice: DEDUP,
          maxDevices: SERIES,
        },
      },
    },
    store: { writeBatch: async () => undefined },
    outputs: new KafkaOutputs({ send: async () => undefined }, { deadLetter: 'd', anomalies: 'a' }),
    checkpoints: {
      save: async (_p: number, json: Buffer) => {
        checkpointBytes = json.length;
        if (skipped > 0) keptBytes += compressCheckpoint(json).length; // (after the run)
        checkpointMsMax = Math.max(checkpointMsMax, performance.now() - batchStarted);
      },
      load: async () => new Map(),
    },
    source: 'readings',
    log: pino({ level: 'silent' }),
    elapsed: () => performance.now() + skipped,
    // As the hub checkpoints by default (paced by their cost); the size of a last one, of the
    // final state, is the figure.
    checkpointEvery: {
      ms: stream.checkpointIntervalMs,
      records: stream.checkpointMaxRecords,
      costPercent: stream.checkpointCostPercent,
    },
  });
  const partitions = Array.from({ length: PARTITIONS }, (_, p) => p);
  pipeline.assign(partitions);
  const before = heap();
  const offsets = partitions.map(() => 0);
  let gatewaySeq = 0;
  const started = performance.now();
  for (let step = 0; step < READINGS; step += 1) {
    const time = T0 + step * STEP_MS;
    const batches = partitions.map((): SourceBatch['records'] => []);
    for (let s = 0; s < SERIES / METRICS; s += 1) {
      const metrics: ReadingRecord['metrics'] = {};
      for (let m = 0; m < METRICS; m += 1)
        metrics[`t${m}`] = { value: 20 + Math.sin(step / 7 + s + m) + (step % 13) / 100 };
      gatewaySeq += 1;
      const record: ReadingRecord = {
        v: 1,
        gatewayId: 'gw-1',
        gatewaySeq,
        deviceId: `dev-${s}`,
        seq: step % 65_536,
        ...(SESSION ? { session: Math.imul(s + 1, 2_654_435_761) >>> 0 } : {}), // a per-boot id
        time,
        receivedAt: time + 5,
        metrics,
      };
      const p = s % PARTITIONS;
      batches[p]?.push({ offset: String(offsets[p]), record });
      offsets[p] = (offsets[p] as number) + 1;
    }
    for (const p of partitions) {
      batchStarted = performance.now();
      await pipeline.handle({
        partition: p,
        lastOffset: String((offsets[p] as number) - 1),
        highWatermark: String(offsets[p]),
        records: batches[p] ?? [],
        invalid: [],
      });
    }
    // As the hub's event loop turns between fetches: any work queued on libuv completes.
    await new Promise((r) => setImmediate(r));
  }
  const runMs = performance.now() - started;
  const { checkpoints } = pipeline.counters;
  const after = heap();
  skipped = 3_600_000;
  for (const p of partitions) {
    const lastOffset = String((offsets[p] as number) - 1);
    const flush = { partition: p, lastOffset, highWatermark: lastOffset, records: [], invalid: [] };
    batchStarted = performance.now();
    await pipeline.handle({ ...flush, flush: true });
  }
  pipeline.assign([]); // used after the measurement: otherwise V8 may collect it before
  return {
    heapPerSeries: (after - before) / SERIES,
    checkpointBytes,
    keptBytes,
    checkpointMsMax,
    recordsPerS: ((SERIES / METRICS) * READINGS) / (runMs / 1000),
    checkpoints,
  };
}

console.log(
  `hub state per (device, metric) series: ${SERIES} series (${METRICS} per device, dedupRecordsPerDevice ${DEDUP}, ${SESSION ? 'with' : 'no'} session) x ${READINGS} readings (every ${STEP_MS / 1000} s), windows ${stream.windowsMs.map((w) => `${w / 60_000} min`).join(' + ')}`,
);
console.log(
  `${'rules'.padEnd(34)} ${'heap B/series'.padStart(14)} ${'checkpoint B/series'.padStart(20)} ${'compressed B/series'.padStart(24)}`,
);
const results: Record<string, { heap: number; checkpoint: number; kept: number }> = {};
let lastCheckpointMs = 0;
const rates: string[] = [];
for (const c of CASES.filter((x) => ONLY === undefined || x.name.includes(ONLY))) {
  const m = await measure(c.rules);
  const cp = (m.checkpointBytes * PARTITIONS) / SERIES;
  const kept = m.keptBytes / SERIES;
  results[c.name] = {
    heap: Math.round(m.heapPerSeries),
    checkpoint: Math.round(cp),
    kept: Math.round(kept),
  };
  lastCheckpointMs = Math.max(lastCheckpointMs, m.checkpointMsMax);
  rates.push(`${c.name}: ${Math.round(m.recordsPerS)} records/s, ${m.checkpoints} checkpoints`);
  console.log(
    `${c.name.padEnd(34)} ${String(Math.round(m.heapPerSeries)).padStart(14)} ${String(Math.round(cp)).padStart(20)} ${String(Math.round(kept)).padStart(24)}`,
  );
}
console.log(`through the pipeline: ${rates.join('; ')}`);
const peak = Math.round(peakRssMb());
console.log(
  `peak RSS of this process ${peak} MB (${PARTITIONS} partition(s)${LIMIT_MB ? `, in ${LIMIT_MB} MB` : ''}, V8 heap limit ${Math.round(getHeapStatistics().heap_size_limit / 2 ** 20)} MB); a batch with its checkpoint took up to ${Math.round(lastCheckpointMs)} ms`,
);
const mb = (n: number) => Math.round(n);
console.log(
  `at the largest sampled RSS, ${mb(atPeak.rss)} MB: V8 heap ${mb(atPeak.heapTotal)} MB (${mb(atPeak.heapUsed)} in use), external ${mb(atPeak.external)} MB (ArrayBuffers, strings outside the heap), the rest ${mb(atPeak.rss - atPeak.heapTotal - atPeak.external)} MB (code, malloc, stacks)`,
);
console.log(
  `RESULT ${JSON.stringify({ series: SERIES, readings: READINGS, partitions: PARTITIONS, peakRssMb: peak, results })}`,
);
