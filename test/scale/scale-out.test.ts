import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadingRecord } from '@iot-stream/contracts';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import type { AppProcess } from '../../scripts/lib/app-process.ts';
import { type KafkaCluster, startKafka } from '../../scripts/services/kafka.ts';
import { forgetScratchDir, removeOnExit } from '../../scripts/services/reaper.ts';
import {
  dumpInflux,
  fleetRecords,
  progress,
  RULES_YAML,
  startHub,
  topicSize,
  waitUntil,
} from '../hub/support.ts';
import { compareDelivery, formatReport } from '../support/fault-report.ts';
import { createReadingsTopic, leaderOf, stableMembers } from './cluster-admin.ts';
import { coverWaits, type PauseEvent, pausesAround, readEntries } from './pauses.ts';
import { produceSteadily } from './steady-load.ts';

// Scale-out, shown (issue 15, point 5): hubs in one consumer group on a 3-broker cluster,
// under a steady load, while one hub is SIGKILLed, a fourth joins and the leader of a
// partition is SIGKILLed and restarted. InfluxDB must end up exactly as one hub leaves it
// from the same records, and the pause each change causes is measured from Kafka's own
// timestamps: a reading's append time to the first checkpoint that covers it.

const influxUrl = inject('influxUrl');
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-scale-${run}-`));
if (!process.env.KEEP_TEST_DIR) removeOnExit(dir);
const topic = `scale-readings-${run}`;
const PARTITIONS = 12;
const SESSION_TIMEOUT_MS = 6000;
const LOAD_MS = 60_000;
const SEED = 1;
// The measurements dumpInflux compares (hub_health is wall-clock time: left out).
const READINGS = '"raw"."readings"';
const AGGREGATES = '"long"."aggregates"';
const ANOMALIES = '"long"."anomalies"';
// 100 devices x 600 readings (one a second of device time): spikes, resends, too-late readings
// and a silent device, so windows, deduplication, lateness and all three rules are exercised.
const records = fleetRecords(100, 600, SEED);
writeFileSync(join(dir, 'rules.yaml'), RULES_YAML);

/** One config per group (its own anomaly topic, to compare the events the two runs publish). */
function hubConfig(name: string): string {
  const file = join(dir, `${name}.yaml`);
  // Idle ticks off, as in test/hub/replay.test.ts: punctuation is wall-clock time passing, so
  // a run that idles longer rightly writes more. Checkpoints every 250 ms (default 1 s) only
  // sharpen the pause measurement: a reading counts as done once a checkpoint covers it.
  writeFileSync(
    file,
    `stream:\n  rulesFile: ${join(dir, 'rules.yaml')}\n  tickIntervalMs: 1000\n  idleTicks: false\n  idleCloseMs: 60000\n  checkpointIntervalMs: 250\nkafka:\n  deadLetterTopic: dlq-${run}\n  anomalyTopic: anomalies-${name}-${run}\n  sessionTimeoutMs: ${SESSION_TIMEOUT_MS}\n`,
  );
  return file;
}

let cluster: KafkaCluster;
const apps: AppProcess[] = [];
/** A failed run keeps its hubs' and brokers' logs (printed at the end). */
let failed = false;

beforeAll(async () => {
  // Its own 3-broker cluster (the global setup's single node cannot lose a leader); a start
  // failure throws, so the test fails with the reason instead of skipping.
  cluster = await startKafka({ nodes: 3, dir, log: () => {} });
}, 150_000);

afterAll(async () => {
  await Promise.all(apps.map((a) => a.stop('SIGKILL')));
  await cluster?.stop();
  if (process.env.KEEP_TEST_DIR || failed) {
    forgetScratchDir(dir); // not removed at exit either
    console.log(`scale-out: logs kept in ${dir}`);
  } else {
    rmSync(dir, { recursive: true, force: true });
    forgetScratchDir(dir);
  }
});

async function drained(brokers: string[], group: string) {
  await waitUntil(
    `group ${group} committed every offset`,
    async () => {
      const p = await progress(brokers, topic, group);
      return p.committed === p.end;
    },
    90_000,
  );
}

describe('hub: scale-out on a 3-broker cluster', () => {
  it('3 hubs, one SIGKILLed, a 4th added, a leader broker SIGKILLed: InfluxDB as one hub leaves it', async () => {
    const brokers = cluster.brokers;
    await createReadingsTopic(brokers, topic, PARTITIONS);
    const group = `scale-${run}`;
    const database = `scale_${run}`;
    const hub = (name: string) => {
      const app = startHub({
        brokers,
        influxUrl,
        topic,
        group,
        database,
        config: hubConfig('scale'),
        logFile: join(dir, `${name}.log`),
        env: { HUB_INSTANCE: name },
      });
      apps.push(app);
      return app;
    };
    onTestFailed(() => {
      failed = true;
    });
    const hubs = [hub('hub-1'), hub('hub-2'), hub('hub-3')];
    await waitUntil(
      '3 hubs in a stable group',
      async () => (await stableMembers(brokers, group)) === 3,
    );

    // The faults, placed in the load by the share of records sent, 12-15 s apart: each one's
    // disruption is over before the next (a broker kill costs a consumer restart and a session
    // timeout, about 10 s), so each pause is measured on its own.
    const events: PauseEvent[] = [];
    let victim = -1;
    const mark = (name: string) => events.push({ name, at: Date.now() });
    const schedule = [
      {
        share: 0.2,
        act: async () => {
          mark('hub SIGKILLed');
          await hubs[0]!.stop('SIGKILL');
        },
      },
      {
        share: 0.4,
        act: async () => {
          mark('hub added');
          hubs.push(hub('hub-4'));
        },
      },
      {
        share: 0.6,
        act: async () => {
          victim = await leaderOf(brokers, topic, 0);
          mark(`broker ${victim} (leader of partition 0) SIGKILLed`);
          await cluster.stopNode(victim - 1, 'SIGKILL');
        },
      },
      {
        share: 0.85,
        act: async () => {
          mark(`broker ${victim} restarted`);
          await cluster.startNode(victim - 1);
        },
      },
    ];
    const faults: Promise<void>[] = [];
    // Each fault waits for the one before it (the restart needs the killed broker's id).
    let chain = Promise.resolve();
    const load = await produceSteadily({
      brokers,
      topic,
      records,
      durationMs: LOAD_MS,
      onProgress: (share) => {
        while (schedule.length > 0 && share >= schedule[0]!.share) {
          const { act } = schedule.shift()!;
          chain = chain.then(act);
          faults.push(chain);
        }
      },
    });
    await Promise.all(faults);
    await drained(brokers, group);
    // hub-2, hub-3, hub-4 still running and back in one stable group (a member evicted for a
    // missed heartbeat while the machine is busy rejoins on its own; a crashed one does not).
    expect(hubs.slice(1).map((h) => h.child.exitCode)).toEqual([null, null, null]);
    await waitUntil(
      'hub-2, hub-3 and hub-4 in a stable group',
      async () => (await stableMembers(brokers, group)) === 3,
    );
    await Promise.all(hubs.map((h) => h.stop('SIGTERM')));

    // The same records, one hub, its own group and database: the reference.
    const refDatabase = `scale_ref_${run}`;
    const ref = startHub({
      brokers,
      influxUrl,
      topic,
      group: `scale-ref-${run}`,
      database: refDatabase,
      config: hubConfig('ref'),
      logFile: join(dir, 'ref.log'),
      env: { HUB_INSTANCE: 'ref' },
    });
    apps.push(ref);
    await drained(brokers, `scale-ref-${run}`);
    await ref.stop('SIGTERM');

    const [scaled, single] = await Promise.all([
      dumpInflux(influxUrl, database),
      dumpInflux(influxUrl, refDatabase),
    ]);
    const rows = (d: Record<string, unknown[]>, m: string) => d[m]?.length ?? 0;
    expect(rows(single, READINGS)).toBeGreaterThan(50_000);
    expect(rows(single, AGGREGATES)).toBeGreaterThan(1_500);
    expect(rows(single, ANOMALIES)).toBeGreaterThan(100);
    const differing = Object.keys(single).reduce((n, m) => {
      const a = new Set(scaled[m] as string[]);
      const b = new Set(single[m] as string[]);
      return n + [...a].filter((x) => !b.has(x)).length + [...b].filter((x) => !a.has(x)).length;
    }, 0);

    // Every reading in the topic is in InfluxDB (device, metric and time: a point's key). The
    // topic is the hubs' input; what the producer had acknowledged but the topic lacks is
    // Kafka's or kafkajs's loss, not the hubs': reported on its own line (see docs/scaling.md).
    const appended = await readEntries(brokers, topic);
    const keys = (rs: Iterable<ReadingRecord>) =>
      [...rs].flatMap((r) => Object.keys(r.metrics).map((m) => `${r.deviceId}/${m}@${r.time}`));
    const inTopic = new Set(
      keys(appended.map((e) => JSON.parse(String(e.value)) as ReadingRecord)),
    );
    const delivered = (scaled[READINGS] ?? []).map((row) => {
      const r = JSON.parse(row as string) as { device: string; metric: string; time: number };
      return `${r.device}/${r.metric}@${r.time}`;
    });
    const report = { seed: SEED, faults: 3, ...compareDelivery(inTopic, delivered) };
    console.log(
      `${formatReport('scale-out', report)} (hub SIGKILLed, hub added, broker ${victim} SIGKILLed and restarted)`,
    );
    const notInTopic = keys(records).filter((k) => !inTopic.has(k));
    console.log(
      `scale-out: load: ${records.length} records acknowledged (acks=all), ${appended.length} in the topic, readings acknowledged but missing from the topic: ${new Set(notInTopic).size}; resends ${load.resends}, longest send ${load.longestSendMs} ms`,
    );

    // Anomaly events are at least once: the same distinct events, some possibly sent twice.
    const anomalyEvents = async (name: string) =>
      (await readEntries(brokers, `anomalies-${name}-${run}`)).map((e) => String(e.value));
    const [scaledEvents, singleEvents] = await Promise.all([
      anomalyEvents('scale'),
      anomalyEvents('ref'),
    ]);
    const distinct = new Set(scaledEvents);
    console.log(
      `scale-out: InfluxDB vs one hub: readings ${rows(scaled, READINGS)}, aggregates ${rows(scaled, AGGREGATES)}, anomalies ${rows(scaled, ANOMALIES)}, differing rows ${differing}; anomaly events ${distinct.size} distinct (one hub: ${new Set(singleEvents).size}), ${scaledEvents.length - distinct.size} resent`,
    );

    expect(report.lost).toBe(0);
    expect(differing).toBe(0);
    expect(scaled).toEqual(single);
    expect(distinct).toEqual(new Set(singleEvents));
    expect(await topicSize(brokers, `dlq-${run}`)).toBe(0);

    // The pauses, from the broker's append times and the checkpoints' times.
    const waits = coverWaits(appended, await readEntries(brokers, `${group}.${topic}.checkpoints`));
    if (process.env.KEEP_TEST_DIR)
      writeFileSync(join(dir, 'waits.json'), JSON.stringify({ events, waits }));
    const { baseline, pauses } = pausesAround(
      waits,
      [...events].sort((a, b) => a.at - b.at),
    );
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `scale-out: pause = longest wait from append to a covering checkpoint (steady: p50 ${baseline.p50} ms, p99 ${baseline.p99} ms, max ${baseline.max} ms; sessionTimeoutMs ${SESSION_TIMEOUT_MS}): ${pauses
        .map(
          (p) =>
            `${p.name}: ${s(p.longestMs)} (partition ${p.partition}; ${p.partitionsOver2s} of ${PARTITIONS} partitions > 2 s)`,
        )
        .join('; ')}`,
    );
    // A rebalance is a pause, not a stall: nothing waited longer than a few session timeouts.
    for (const p of pauses) expect(p.longestMs).toBeLessThan(5 * SESSION_TIMEOUT_MS);
  }, 300_000);
});
