// `npx tsx test/bench/hub.ts [records] [--throughput-only] [--profile FILE] [--profile-live FILE]
// [--checkpoint-ms N] [--peer-records N] [--peer-rounds N] [--no-peers]`: the hub's throughput
// (windows + detectors + InfluxDB writes + checkpoints) beside the raw kafkajs consume rate in
// the same run, with the hub process's CPU time, then latencies at a steady load: Kafka append
// -> InfluxDB ack, and triggering reading -> anomaly record, then (peers) the hub as its own
// process beside
// Telegraf over the same --peer-records records (default 200,000): readings/s, CPU per 100k,
// peak RSS and their ratios (scenarios/hub-peers.ts), the hub once with each Kafka client
// (kafkajs, @platformatic/kafka) and their ratio; --peer-rounds times (default 3, taken in
// turn), the goals judged on each path's median. Uses KAFKA_BROKERS / INFLUX_URL when both
// are set, else starts its own servers (Telegraf is told the brokers speak Kafka 3.9.1, or
// TELEGRAF_KAFKA_VERSION).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadingRecord } from '@iot-stream/contracts';
import { Value } from '@sinclair/typebox/value';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { HubConfigSchema } from '../../hub/src/config.ts';
import { startHub } from '../../hub/src/main.ts';
import { startServices } from '../../scripts/services/services.ts';
import { committedCount } from './lib/kafka.ts';
import { peersReport } from './lib/peer-rows.ts';
import { summarize } from './lib/stats.ts';
import { type HubPeersResult, hubPeers } from './scenarios/hub-peers.ts';

const args = process.argv.slice(2);
const N = Number(
  args.find(
    (a, i) =>
      !a.startsWith('--') && !(args[i - 1]?.startsWith('--') && args[i - 1] !== '--no-peers'),
  ) ?? 100_000,
);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
/** `--throughput-only`: phase 1 alone. */
const throughputOnly = args.includes('--throughput-only');
/** `--profile FILE` / `--profile-live FILE`: a V8 CPU profile (.cpuprofile) of that phase. */
const profileFile = option('--profile');
const profileLiveFile = option('--profile-live');
/** `--checkpoint-ms N`: the hub's stream.checkpointIntervalMs (0: a checkpoint per batch). */
const checkpointMs = option('--checkpoint-ms');
/** `--peer-records N` (default 200,000) / `--no-peers`: the side by side with Telegraf. */
const peerRecords = Number(option('--peer-records') ?? 200_000);
const peers = !args.includes('--no-peers');
/** `--peer-rounds N` (default 3): each path's figures are the median of N runs. */
const peerRounds = Number(option('--peer-rounds') ?? 3);
if (!Number.isInteger(peerRounds) || peerRounds < 1) {
  console.error(`--peer-rounds: a whole number of at least 1, not ${option('--peer-rounds')}`);
  process.exit(2);
}

async function startProfile(file: string | undefined): Promise<Session | undefined> {
  if (file === undefined) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return session;
}

async function stopProfile(session: Session | undefined, file: string | undefined) {
  if (!session || file === undefined) return;
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(file, JSON.stringify(profile));
  session.disconnect();
}

const DEVICES = 250;
const run = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'hub-bench-'));
writeFileSync(
  join(dir, 'rules.yaml'),
  `rules:
  - { id: limits, metric: temperature, detector: range, params: { min: 0, max: 40 }, episode: { quietMs: 0 } }
  - { id: spikes, metric: humidity, detector: robust-zscore }
  - { id: stuck, metric: temperature, detector: flatline }
`,
);

const env = process.env;
const services =
  env.KAFKA_BROKERS && env.INFLUX_URL ? undefined : await startServices({ kafkaNodes: 1 });
const brokers = services?.kafkaBrokers ?? (env.KAFKA_BROKERS ?? '').split(',');
const influxUrl = services?.influxUrl ?? env.INFLUX_URL ?? '';
const kafka = new Kafka({ brokers, clientId: 'hub-bench', logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();

function reading(i: number, now: number, spike: boolean): ReadingRecord {
  return {
    v: 1,
    gatewayId: 'gw-bench',
    gatewaySeq: i + 1,
    deviceId: `bench-${i % DEVICES}`,
    seq: Math.floor(i / DEVICES) % 65_536,
    time: now,
    receivedAt: now,
    metrics: {
      temperature: { value: spike ? 90 : 20 + Math.random(), unit: 'Cel' },
      humidity: { value: 40 + Math.random() * 5, unit: '%RH' },
    },
  };
}

async function produce(topic: string, records: ReadingRecord[]) {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < records.length; i += 5000)
    await producer.send({
      topic,
      acks: -1,
      messages: records
        .slice(i, i + 5000)
        .map((r) => ({ key: r.deviceId, value: JSON.stringify(r) })),
    });
  await producer.disconnect();
}

const committed = (topic: string, groupId: string) => committedCount(admin, topic, groupId);

/** The hub's own counts (batches consumed, checkpoints written), from its health endpoint. */
async function counters(url: string): Promise<{ batches: number; checkpoints: number }> {
  const health = (await (await fetch(`${url}/api/health`)).json()) as {
    pipeline: { batches: number; checkpoints: number };
  };
  return health.pipeline;
}

function hubConfig(topic: string, group: string) {
  return Value.Default(HubConfigSchema, {
    kafka: {
      brokers,
      topic,
      groupId: group,
      deadLetterTopic: `bench-dlq-${run}`,
      anomalyTopic: `bench-anomalies-${run}`,
    },
    influx: { url: influxUrl, database: `bench_${run}` },
    stream: {
      rulesFile: join(dir, 'rules.yaml'),
      ...(checkpointMs === undefined ? {} : { checkpointIntervalMs: Number(checkpointMs) }),
    },
    http: { port: 0 },
    log: { level: 'warn' },
  }) as Parameters<typeof startHub>[0];
}

// 1. Throughput: N records waiting in the topic, consumed raw, then by the hub.
const topic = `bench-hub-${run}`;
await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
const t0 = Date.now() - N; // one reading per ms of event time, all in the past
await produce(
  topic,
  Array.from({ length: N }, (_, i) => reading(i, t0 + i, i % 997 === 0)),
);

const raw = kafka.consumer({ groupId: `bench-raw-${run}`, maxWaitTimeInMs: 100 });
await raw.connect();
await raw.subscribe({ topic, fromBeginning: true });
let rawCount = 0;
const rawStart = Date.now();
await new Promise<void>((resolve) => {
  void raw.run({
    eachBatch: async ({ batch }) => {
      rawCount += batch.messages.length;
      if (rawCount >= N) resolve();
    },
  });
});
const rawRate = N / ((Date.now() - rawStart) / 1000);
await raw.disconnect();

const log = pino({ level: 'warn' });
const group = `bench-hub-${run}`;
const session = await startProfile(profileFile);
const hubStart = Date.now();
const cpuStart = process.cpuUsage();
let written = 0;
let firstWrittenAt = 0;
let allWrittenAt = 0;
let cpu = process.cpuUsage(cpuStart);
const hub = await startHub(hubConfig(topic, group), log, {
  onWritten: (out, at) => {
    written += out.readings.length;
    if (firstWrittenAt === 0) firstWrittenAt = at;
    if (written >= N && allWrittenAt === 0) {
      allWrittenAt = at;
      cpu = process.cpuUsage(cpuStart);
    }
  },
});
const startedAt = Date.now();
while ((await committed(topic, group)) < N) await new Promise((r) => setTimeout(r, 100));
const committedAt = Date.now();
// Throughput: from starting the hub until InfluxDB acknowledged the last reading (start-up
// included). Offsets are committed a little later: up to stream.checkpointIntervalMs after
// the last batch, when its checkpoint is written (see hub/docs/architecture.md).
if (allWrittenAt === 0) allWrittenAt = committedAt; // (not all written: a duplicate?)
const hubRate = N / ((allWrittenAt - hubStart) / 1000);
const hubCounters = await counters(hub.url);
const hubCpuSeconds = (cpu.user + cpu.system) / 1e6;
const timeline = () =>
  `start-up ${startedAt - hubStart} ms, first write at ${firstWrittenAt - hubStart} ms, last at ${allWrittenAt - hubStart} ms, all committed at ${committedAt - hubStart} ms`;
await stopProfile(session, profileFile);
await hub.stop();
if (throughputOnly) {
  console.log(
    `raw kafkajs consume ${rawRate.toFixed(0)} records/s; hub ${hubRate.toFixed(0)} readings/s (ratio ${(hubRate / rawRate).toFixed(2)}); hub process CPU ${hubCpuSeconds.toFixed(1)} s = ${(N / hubCpuSeconds).toFixed(0)} readings per CPU-second; ${hubCounters.batches} batches, ${hubCounters.checkpoints} checkpoints; ${timeline()}`,
  );
  await admin.disconnect();
  await services?.stop();
  process.exit(0);
}

// 2. Latency at a steady load (2,000 readings/s for 15 s, a spike every 500th reading).
const live = `bench-live-${run}`;
await admin.createTopics({ topics: [{ topic: live, numPartitions: 6 }], waitForLeaders: true });
const ack: number[] = [];
const liveHub = await startHub(hubConfig(live, `bench-live-${run}`), log, {
  onWritten: (out, at) => {
    for (const r of out.readings) ack.push(at - r.receivedAt);
  },
});
const anomalyLatency: number[] = [];
const liveStart = Date.now();
const liveSession = await startProfile(profileLiveFile);
const liveCpuStart = process.cpuUsage();
const anomalies = kafka.consumer({ groupId: `bench-anomalies-${run}`, maxWaitTimeInMs: 50 });
await anomalies.connect();
await anomalies.subscribe({ topic: `bench-anomalies-${run}`, fromBeginning: true });
await anomalies.run({
  eachMessage: async ({ message }) => {
    const e = JSON.parse(message.value?.toString() ?? '{}') as {
      type: string;
      episode: { start: number };
    };
    // Only episodes of the live phase (phase 1's are in the past by construction).
    if (e.type === 'opened' && e.episode.start >= liveStart)
      anomalyLatency.push(Number(message.timestamp) - e.episode.start);
  },
});
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
let i = 0;
const liveEnd = Date.now() + 15_000;
while (Date.now() < liveEnd) {
  const tick = Date.now();
  const batch = Array.from({ length: 100 }, () => {
    i += 1;
    return reading(N + i, Date.now(), i % 500 === 0);
  });
  await producer.send({
    topic: live,
    acks: -1,
    messages: batch.map((r) => ({ key: r.deviceId, value: JSON.stringify(r) })),
  });
  await new Promise((r) => setTimeout(r, Math.max(0, 50 - (Date.now() - tick))));
}
await new Promise((r) => setTimeout(r, 3000));
const liveCpu = process.cpuUsage(liveCpuStart);
await stopProfile(liveSession, profileLiveFile);
const liveCounters = await counters(liveHub.url);
await producer.disconnect();
await anomalies.disconnect();
await liveHub.stop();

// 3. Peers: the hub's own process beside Telegraf, over the same records.
const RULES = '3 rules (range, robust-zscore, flatline)';
let side: HubPeersResult | undefined;
if (peers) {
  const peerTopic = `bench-peers-${run}`;
  const emptyTopic = `bench-peers-empty-${run}`;
  await admin.createTopics({
    topics: [peerTopic, emptyTopic].map((t) => ({ topic: t, numPartitions: 6 })),
    waitForLeaders: true,
  });
  const p0 = Date.now() - peerRecords;
  await produce(
    peerTopic,
    Array.from({ length: peerRecords }, (_, k) => reading(k, p0 + k, k % 997 === 0)),
  );
  side = await hubPeers(
    {
      brokers,
      influxUrl,
      topic: peerTopic,
      emptyTopic,
      records: peerRecords,
      rulesFile: join(dir, 'rules.yaml'),
      dir,
      run,
      log: (m) => console.log(m),
      servicePids: services && {
        influx: services.influx?.pid(),
        kafka: (services.kafka?.nodes() ?? []).flatMap((n) => (n.pid ? [n.pid] : [])),
      },
    },
    RULES,
    ['kafkajs', 'platformatic'],
    peerRounds,
  );
}
await admin.disconnect();
await services?.stop();

const a = summarize(ack);
const e = summarize(anomalyLatency);
console.log(`hub benchmark (${N} readings, ${DEVICES} devices, 2 metrics, 3 rules, 6 partitions)`);
console.log(`  raw kafkajs consume         ${rawRate.toFixed(0)} records/s`);
console.log(
  `  hub (windows + detectors + InfluxDB + checkpoints)  ${hubRate.toFixed(0)} readings/s  (ratio ${(hubRate / rawRate).toFixed(2)})`,
);
console.log(
  `  hub process CPU in that phase ${hubCpuSeconds.toFixed(1)} s: ${(N / hubCpuSeconds).toFixed(0)} readings per CPU-second (target 50,000 per core); ${hubCounters.batches} batches, ${hubCounters.checkpoints} checkpoints`,
);
console.log(`    ${timeline()}`);
console.log(
  `  steady load ${i} readings at ~2,000/s; CPU of this process (hub + load generator) ${((liveCpu.user + liveCpu.system) / i).toFixed(0)} us per reading; ${liveCounters.batches} batches, ${liveCounters.checkpoints} checkpoints:`,
);
console.log(
  `    Kafka append -> InfluxDB ack   p50 ${a.p50} ms  p99 ${a.p99} ms  max ${a.max} ms  (n=${a.n})`,
);
console.log(
  `    reading -> anomaly record      p50 ${e.p50} ms  p99 ${e.p99} ms  max ${e.max} ms  (n=${e.n})`,
);
if (side) for (const line of peersReport(side, peerRecords)) console.log(line);
console.log(`RESULT ${JSON.stringify({ records: N, peerRecords, peers: side ?? null })}`);
process.exit(0);
