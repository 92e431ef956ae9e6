// `npx tsx test/bench/hub-scale.ts [devices] [readings-per-device] [--metrics M]
// [--partitions P] [--detector NAME] [--memory-limit MB] [--profile DIR] [--stream YAML]`:
// the hub's own process (its bin, as a user runs it) holding many series: `devices` x M
// series (default 25,000 x 4 = 100k), `readings-per-device` readings each (default 120, one
// every 10 s: 20 minutes, enough for the windows, the dedup ids and a 60-reading detector
// window to fill), already waiting in a topic of P partitions (default 24), one rule of NAME
// (default robust-zscore) on every metric. With --memory-limit (default 1024; 0: none) the
// hub runs in a memory cgroup of that many MB, as in a container or under systemd's MemoryMax
// (root; scripts/lib/memory-cgroup.ts): its bin sizes V8's heap to it, and the kernel kills it
// if it does not fit. Prints progress, then records/s (start to every offset committed), the
// hub's peak RSS and CPU, and what the cgroup charged; with --profile, where the hub's time
// went (V8's CPU profiler, its profile left in DIR; profiling slows it). --stream adds
// settings to the hub's `stream` map (`'checkpointCostPercent: 5'`). Uses KAFKA_BROKERS /
// INFLUX_URL when both are set, else starts its own.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadingRecord } from '@iot-stream/contracts';
import { Kafka, logLevel } from 'kafkajs';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';
import { memoryCgroup, nodeInCgroup } from '../../scripts/lib/memory-cgroup.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';
import { startServices } from '../../scripts/services/services.ts';
import { type CpuProfile, sourceMapResolver, summarizeProfile } from './lib/cpu-profile.ts';
import { committedCount } from './lib/kafka.ts';
import { cpuSeconds, readMemory, round, sleep } from './lib/proc.ts';

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const [devicesArg, readingsArg] = args.filter(
  (a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'),
);
const DEVICES = Number(devicesArg ?? 25_000);
const READINGS = Number(readingsArg ?? 120);
const METRICS = Number(option('--metrics') ?? 4);
const PARTITIONS = Number(option('--partitions') ?? 24);
const DETECTOR = option('--detector') ?? 'robust-zscore';
const LIMIT_MB = Number(option('--memory-limit') ?? 1024);
const PROFILE_DIR = option('--profile');
const STREAM = option('--stream');
for (const [name, v] of Object.entries({ DEVICES, READINGS, METRICS, PARTITIONS, LIMIT_MB }))
  if (!Number.isInteger(v) || v < 0) {
    console.error(`hub-scale: ${name.toLowerCase()} must be a whole number, not ${v}`);
    process.exit(2);
  }
const STEP_MS = 10_000;
const RECORDS = DEVICES * READINGS;

const run = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'hub-scale-'));
const env = process.env;
const services =
  env.KAFKA_BROKERS && env.INFLUX_URL ? undefined : await startServices({ kafkaNodes: 1 });
const brokers = services?.kafkaBrokers ?? (env.KAFKA_BROKERS ?? '').split(',');
const influxUrl = services?.influxUrl ?? env.INFLUX_URL ?? '';
const kafka = new Kafka({ brokers, clientId: 'hub-scale', logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
const topic = `scale-${run}`;
await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });

console.log(
  `hub at scale: ${DEVICES} devices x ${METRICS} metrics = ${DEVICES * METRICS} series, ${READINGS} readings each (${RECORDS} records), ${PARTITIONS} partitions, ${DETECTOR} on every metric, ${LIMIT_MB ? `in a memory cgroup of ${LIMIT_MB} MB` : 'no memory limit'}`,
);

// The records, in event-time order (every device's reading of a step before the next step's),
// ending now: within InfluxDB's raw retention and not ahead of the gateway's receipt.
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
const t0 = Date.now() - READINGS * STEP_MS;
const produceStart = Date.now();
let gatewaySeq = 0;
for (let step = 0; step < READINGS; step += 1) {
  const time = t0 + step * STEP_MS;
  for (let from = 0; from < DEVICES; from += 5000) {
    const messages = [];
    for (let d = from; d < Math.min(DEVICES, from + 5000); d += 1) {
      const metrics: ReadingRecord['metrics'] = {};
      for (let m = 0; m < METRICS; m += 1)
        metrics[`m${m}`] = { value: round(20 + Math.sin(step / 7 + d + m) + Math.random(), 3) };
      gatewaySeq += 1;
      const record: ReadingRecord = {
        v: 1,
        gatewayId: 'gw-scale',
        gatewaySeq,
        deviceId: `dev-${d}`,
        seq: step % 65_536,
        time,
        receivedAt: time + 5,
        metrics,
      };
      messages.push({ key: record.deviceId, value: JSON.stringify(record) });
    }
    await producer.send({ topic, acks: -1, messages });
  }
  if (step % 20 === 19) console.log(`  produced ${(step + 1) * DEVICES} records`);
}
await producer.disconnect();
console.log(
  `produced ${RECORDS} records in ${round((Date.now() - produceStart) / 1000)} s; starting the hub`,
);

writeFileSync(
  join(dir, 'rules.yaml'),
  `rules:\n  - { id: every-metric, metric: '*', detector: ${DETECTOR} }\n`,
);
const [port = 0] = await freePorts(1);
const config = join(dir, 'hub.yaml');
const groupId = `scale-hub-${run}`;
writeFileSync(
  config,
  [
    `kafka: { brokers: [${brokers.join(', ')}], topic: ${topic}, groupId: ${groupId},`,
    `  deadLetterTopic: scale-dlq-${run}, anomalyTopic: scale-anomalies-${run} }`,
    `influx: { url: '${influxUrl}', database: scale_${run} }`,
    `stream: { rulesFile: '${join(dir, 'rules.yaml')}'${STREAM ? `, ${STREAM}` : ''} }`,
    `http: { port: ${port} }`,
    `storage: { dir: '${join(dir, 'data')}' }`,
  ].join('\n'),
);

const committed = () => committedCount(admin, topic, groupId);

const group = LIMIT_MB ? memoryCgroup(`iot-hub-scale-${run}`, LIMIT_MB * 2 ** 20) : undefined;
let hub: AppProcess | undefined;
const stopHub = () => hub?.stop('SIGTERM', PROFILE_DIR ? 300_000 : 60_000);

/** The hub started on the records, watched until all are committed or it exits: whether all were. */
async function runHub(): Promise<boolean> {
  const texts: string[] = [];
  const started = Date.now();
  hub = spawnApp({
    name: 'hub',
    bin: BINS.hub,
    args: ['--config', config],
    ...(group ? { node: nodeInCgroup(group, dir) } : {}),
    nodeFlags: PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [],
    onText: (t) => texts.push(t),
  });
  const settings = await hub.waitFor((l) => l.msg === 'memory settings', 60_000);
  console.log(
    `hub: V8 heap limit ${settings.heapLimitMb} MB${settings.memoryLimitMb ? ` (memory limit ${settings.memoryLimitMb} MB)` : ''}`,
  );

  let done = 0;
  let exited: number | null | undefined;
  void hub.exited.then((code) => {
    exited = code;
  });
  const pid = hub.child.pid as number;
  let hwmMb = 0;
  let cpu = 0;
  let printed = 0;
  while (done < RECORDS && exited === undefined) {
    await sleep(2000);
    done = await committed();
    const memory = readMemory(pid);
    hwmMb = Math.max(hwmMb, memory?.hwmMb ?? 0);
    cpu = cpuSeconds(pid) ?? cpu;
    const s = (Date.now() - started) / 1000;
    if (s - printed >= 10) {
      printed = s;
      console.log(
        `  ${round(s)} s: ${done} committed (${Math.round(done / s)}/s), hub RSS ${Math.round(memory?.rssMb ?? 0)} MB (peak ${Math.round(hwmMb)}), CPU ${round(cpu)} s`,
      );
    }
  }
  const seconds = (Date.now() - started) / 1000;
  const killed = group?.oomKilled() ?? false;
  const ok = exited === undefined; // (stopped by us below)
  // A hub under the profiler writes its profile as it exits, after its last checkpoints: time.
  if (ok) await stopHub();
  console.log(
    ok
      ? `all ${RECORDS} records committed in ${round(seconds)} s: ${Math.round(RECORDS / seconds)} records/s (start-up included), hub peak RSS ${Math.round(hwmMb)} MB, CPU ${round(cpu)} s (${round((cpu / RECORDS) * 100_000, 2)} s per 100k records)`
      : `the hub EXITED (${exited ?? 'killed'}${killed ? ': killed for memory' : ''}) after ${round(seconds)} s with ${done} of ${RECORDS} records committed, peak RSS ${Math.round(hwmMb)} MB\n${texts.slice(-5).join('\n')}`,
  );
  if (PROFILE_DIR && ok) printProfile(PROFILE_DIR);
  if (group) console.log(`memory cgroup: ${group.report()}${killed ? ', KILLED for memory' : ''}`);
  console.log(
    `RESULT ${JSON.stringify({ devices: DEVICES, metrics: METRICS, readings: READINGS, limitMb: LIMIT_MB, ok, recordsPerS: Math.round(RECORDS / seconds), peakRssMb: Math.round(hwmMb) })}`,
  );
  return ok;
}

let ok = false;
try {
  ok = await runHub();
} finally {
  // Whatever happened: nothing of this run left behind (the hub, the cgroup, the services).
  if (hub && hub.child.exitCode === null && hub.child.signalCode === null) await stopHub();
  group?.remove();
  await admin.disconnect();
  await services?.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);

/** The hub's profile (the largest in `dir`: npm's or the bin's first process write small ones). */
function printProfile(dir: string): void {
  const [file] = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size);
  if (!file) return void console.log(`the hub wrote no profile in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const p = summarizeProfile(profile, sourceMapResolver());
  console.log(
    `where the hub's time went (${join(dir, file)}): busy ${round(p.busyMs / 1000)} s of ${round(p.totalMs / 1000)} s`,
  );
  for (const part of p.parts.slice(0, 12))
    console.log(
      `  ${part.part.padEnd(50)} ${String(round(part.ms / 1000)).padStart(7)} s ${String(round(part.share * 100)).padStart(5)}%`,
    );
}
