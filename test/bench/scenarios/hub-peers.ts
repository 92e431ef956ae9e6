// The hub side by side with Telegraf (kafka_consumer -> influxdb output, no detection) over the
// same records already waiting in one Kafka topic, into the same InfluxDB, one after the other:
// readings/s from process start until the last point is queryable, CPU seconds per 100k
// readings and peak RSS (VmHWM) of each process, and the ratios the hub issue sets as goals;
// Telegraf twice: as its users would write our records (a point per record), and writing the
// hub's own points (a point per metric, the same series and fields: checked), InfluxDB's load
// for the hub's data model without the hub;
// the hub once per Kafka client (kafka.client: kafkajs, platformatic), one after the other;
// then the hub once more under V8's CPU profiler: where its time goes.
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KafkaClientName } from '@iot-stream/contracts';
import { BINS, spawnApp } from '../../../scripts/lib/app-process.ts';
import { freePorts } from '../../../scripts/services/free-ports.ts';
import {
  type CpuProfile,
  type ProfileSummary,
  sourceMapResolver,
  summarizeProfile,
} from '../lib/cpu-profile.ts';
import { count, type Target } from '../lib/influx-wait.ts';
import { medianRun } from '../lib/peer-rows.ts';
import { cpuSeconds, round, sleep } from '../lib/proc.ts';
import { sameShape, telegrafRun } from './hub-peers-telegraf.ts';
import { type HubPeersOptions, measure, type PeerRun, serviceCpu } from './peer-measure.ts';

export type { HubPeersOptions, PeerRun } from './peer-measure.ts';

/** The hub's bin on `topic`, writing to `database`, talking to Kafka through `client`. */
async function spawnHub(
  o: HubPeersOptions,
  topic: string,
  database: string,
  name: string,
  client: KafkaClientName,
  nodeFlags: string[] = [],
) {
  const [port = 0] = await freePorts(1);
  const config = join(o.dir, `${name}.yaml`);
  writeFileSync(
    config,
    [
      `kafka: { brokers: [${o.brokers.join(', ')}], topic: ${topic}, groupId: ${name}-${o.run},`,
      `  deadLetterTopic: ${name}-dlq-${o.run}, anomalyTopic: ${name}-anomalies-${o.run},`,
      `  client: ${client} }`,
      `influx: { url: '${o.influxUrl}', database: ${database} }`,
      `stream: { rulesFile: '${o.rulesFile}' }`,
      `http: { port: ${port} }`,
      `storage: { dir: '${join(o.dir, `${name}-data`)}' }`,
      `log: { level: warn }`,
    ].join('\n'),
  );
  const hub = spawnApp({
    name,
    bin: BINS.hub,
    nodeFlags,
    args: ['--config', config],
  });
  return { hub, port };
}

/** The hub's readings: a point per metric (two a record) in the `raw` policy. */
function hubTarget(o: HubPeersOptions, database: string): Target {
  return {
    db: database,
    rp: 'raw',
    points: 2 * o.records,
    counted: () => count(o.influxUrl, database, '"raw"."readings"', 'value'),
  };
}

async function hubRun(
  o: HubPeersOptions,
  rules: string,
  client: KafkaClientName,
): Promise<PeerRun> {
  // Start-up alone: a hub on the empty topic, until its REST API answers.
  const idle = await spawnHub(
    o,
    o.emptyTopic,
    `hubidle_${client}_${o.run}`,
    `hub-idle-${client}`,
    client,
  );
  for (let ok = false; !ok; ) {
    if (idle.hub.child.exitCode !== null) throw new Error('the hub exited during start-up');
    ok = await fetch(`http://127.0.0.1:${idle.port}/api/health`).then(
      () => true,
      () => false,
    );
    if (!ok) await sleep(50);
  }
  const startupCpu = cpuSeconds(idle.hub.child.pid as number) ?? 0;
  await idle.hub.stop();
  const database = `hubpeer_${client}_${o.run}`;
  const started = Date.now();
  const services = serviceCpu(o);
  const { hub } = await spawnHub(o, o.topic, database, `hub-peer-${client}`, client);
  try {
    return await measure(
      `iot-hub (${client}), ${rules}`,
      hub.child.pid as number,
      started,
      startupCpu,
      hubTarget(o, database),
      o.records,
      o.influxUrl,
      services,
    );
  } finally {
    await hub.stop();
  }
}

/**
 * Where the hub's time goes: its process (kafkajs) once more over the same records, with V8's
 * CPU profiler on (its own run: profiling slows it), summarised by part of the code.
 */
async function profiledRun(o: HubPeersOptions): Promise<ProfileSummary> {
  const dir = mkdtempSync(join(o.dir, 'hub-profile-'));
  const database = `hubprofile_${o.run}`;
  const { hub } = await spawnHub(o, o.topic, database, 'hub-profile', 'kafkajs', [
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
  ]);
  try {
    await measure(
      'profiled',
      hub.child.pid as number,
      Date.now(),
      0,
      hubTarget(o, database),
      o.records,
      o.influxUrl,
      undefined,
    );
  } finally {
    await hub.stop(); // the profile is written as the process exits
  }
  // The bin's first process (before it replaces itself with the start-up settings) may write
  // a profile of its own, a few milliseconds long: the hub's is the largest.
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
  if (!file) throw new Error(`the profiled hub wrote no profile in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  return summarizeProfile(profile, sourceMapResolver());
}

export interface HubPeer {
  client: KafkaClientName;
  run: PeerRun;
  /** Against Telegraf's. */
  cpuRatio: number;
  rateRatio: number;
}

/**
 * `rounds` times: Telegraf (writing a point per record, then the hub's points), then the hub
 * once per Kafka client (each run its own consumer group
 * and database, over the same records), so that drift in the machine's speed falls on all
 * paths alike; prints each run and returns them with each path's median (lib/peer-rows.ts) and
 * the ratios of the medians. `hub`, `cpuRatio` and `rateRatio` are the first client's (kafkajs,
 * the default). Then the hub once more under the CPU profiler.
 */
export async function hubPeers(
  o: HubPeersOptions,
  rules: string,
  clients: readonly KafkaClientName[] = ['kafkajs', 'platformatic'],
  rounds = 1,
) {
  o.log(
    `peers: Telegraf and the hub (${clients.join(', ')}) over the same ${o.records} records, ${rounds} round(s)`,
  );
  const telegrafRuns: PeerRun[] = [];
  const samePointsRuns: PeerRun[] = [];
  const hubRuns = new Map(clients.map((c) => [c, [] as PeerRun[]]));
  let shapes: string | undefined;
  for (let round = 1; round <= rounds; round += 1) {
    const ro = rounds === 1 ? o : { ...o, run: `${o.run}r${round}` };
    const telegraf = await telegrafRun(ro);
    o.log(`  ${JSON.stringify(telegraf)}`);
    telegrafRuns.push(telegraf);
    const sameRun = await telegrafRun(ro, 'hub');
    o.log(`  ${JSON.stringify(sameRun)}`);
    samePointsRuns.push(sameRun);
    for (const client of clients) {
      const hub = await hubRun(ro, rules, client);
      o.log(`  ${JSON.stringify(hub)}`);
      hubRuns.get(client)?.push(hub);
    }
    shapes ??= await sameShape(
      ro,
      `telegraf_hubpoints_${ro.run}`,
      `hubpeer_${clients[0]}_${ro.run}`,
    );
  }
  const telegraf = medianRun(telegrafRuns);
  const hubs: HubPeer[] = clients.map((client) => {
    const hub = medianRun(hubRuns.get(client) ?? []);
    return {
      client,
      run: hub,
      cpuRatio: round(hub.cpuPer100k / telegraf.cpuPer100k, 2),
      rateRatio: round(hub.readingsPerSec / telegraf.readingsPerSec, 2),
    };
  });
  const [first] = hubs as [HubPeer, ...HubPeer[]];
  const same = medianRun(samePointsRuns);
  const profile = await profiledRun(o);
  return {
    telegraf,
    hubs,
    /** Every run, in order, per path. */
    runs: { telegraf: telegrafRuns, hubs: Object.fromEntries(hubRuns) },
    hub: first.run,
    cpuRatio: first.cpuRatio,
    rateRatio: first.rateRatio,
    /**
     * Telegraf writing the hub's own points, and the first client's hub against it: the hub's
     * work beside InfluxDB's for the same data model. `difference`: why the points were not the
     * same after all (then no ratio).
     */
    samePoints: {
      run: same,
      runs: samePointsRuns,
      difference: shapes,
      cpuRatio: round(first.run.cpuPer100k / same.cpuPer100k, 2),
      rateRatio: round(first.run.readingsPerSec / same.readingsPerSec, 2),
    },
    profile,
  };
}

export type HubPeersResult = Awaited<ReturnType<typeof hubPeers>>;
