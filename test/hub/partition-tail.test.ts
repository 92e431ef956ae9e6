import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadingRecord } from '@iot-stream/contracts';
import { Consumer } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaReadingSource } from '../../hub/src/kafka/kafka-source.ts';
import { platformaticConnection } from '../../hub/src/kafka-platformatic/connection.ts';
import { PlatformaticReadingSource } from '../../hub/src/kafka-platformatic/reading-source.ts';
import type { SourceBatch } from '../../hub/src/ports.ts';
import { MemoryCheckpoints, MemoryInflux } from '../../hub/test/support/memory-stores.ts';
import { batches, stream, testPipeline } from '../../hub/test/support/pipeline-fixture.ts';
import { type KafkaCluster, startKafka } from '../../scripts/services/kafka.ts';
import { forgetScratchDir, removeOnExit } from '../../scripts/services/reaper.ts';
import { withAdmin } from '../scale/cluster-admin.ts';
import { HUB_KAFKA_CLIENT, waitUntil } from './support.ts';

// A partition's tail, processed but not yet checkpointed, across a rejoin that happens while
// another partition's batch is still in the handler. kafkajs 2.2.4 rejoins the group from
// inside one fetcher when a fetch meets a stale-metadata error (a partition's leader moved:
// consumerGroup.recoverFromFetch -> joinAndSync), while the fetcher of another broker is still
// running a batch; that batch's resolveOffset then lands in the new generation's offset
// manager, so the new generation fetches past records it never processed (the scale-out test's
// "tail left uncommitted", docs/scaling.md). Two fetchers need partitions led by two brokers:
// this test runs its own 3-broker cluster, moves the leader of partition 1 while partition 0's
// first batch waits in the handler, and then checks that partition 0's tail is checkpointed and
// committed without new records, and that InfluxDB ends up as one uninterrupted pass leaves it.

const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-tail-${run}-`));
if (!process.env.KEEP_TEST_DIR) removeOnExit(dir);
const topic = `tail-${run}`;
const records = stream(900, 5);
const FIRST = 600; // produced before the fault; the rest after it
const FLUSH_AFTER_MS = 1000;

let cluster: KafkaCluster;

beforeAll(async () => {
  cluster = await startKafka({ nodes: 3, dir, log: () => {} });
}, 150_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
  forgetScratchDir(dir);
});

function pipelineOver(influx: MemoryInflux, checkpoints: MemoryCheckpoints, every?: number) {
  return testPipeline({
    store: influx,
    checkpoints,
    source: topic,
    checkpointEvery: every === undefined ? undefined : { ms: every, records: 1_000_000 },
  });
}

async function produce(brokers: string[], rs: ReadingRecord[]) {
  const producer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: rs.map((r) => ({ partition: 0, key: r.deviceId, value: JSON.stringify(r) })),
  });
  await producer.disconnect();
}

async function committed(brokers: string[], group: string, partition: number) {
  return withAdmin(brokers, async (admin) => {
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return Number(t?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
  });
}

/** The reading source of the client the hub tests run with (HUB_KAFKA_CLIENT). */
function readingSource(brokers: string[], group: string) {
  const options = {
    groupId: group,
    topic,
    log: pino({ level: process.env.TAIL_LOG ?? 'silent' }),
    sessionTimeoutMs: 10_000,
    flushAfterMs: FLUSH_AFTER_MS,
    // Small batches: partition 0 still has records to fetch after the first one.
    maxBytesPerPartition: 16_384,
  };
  if (HUB_KAFKA_CLIENT === 'platformatic')
    return new PlatformaticReadingSource({
      ...options,
      connection: platformaticConnection(brokers, 'tail-test', {
        tls: { enabled: false, caFile: '', certFile: '', keyFile: '', rejectUnauthorized: true },
        sasl: { mechanism: 'none', username: '', password: '' },
      }),
    });
  return new KafkaReadingSource({
    ...options,
    brokers,
    clientId: 'tail-test',
    deadLetterTopic: 'dlq',
  });
}

/** A member joins `group` (subscribed to another topic), which rebalances the group, and leaves. */
async function visitGroup(brokers: string[], group: string) {
  const other = `${topic}-visitor`;
  await withAdmin(brokers, async (admin) => {
    await admin.createTopics({
      waitForLeaders: false,
      topics: [{ topic: other, numPartitions: 1 }],
    });
    await waitUntil('the visitor topic led', async () => {
      const [t] = (await admin.fetchTopicMetadata({ topics: [other] })).topics;
      return (t?.partitions ?? []).some((p) => p.leader > 0);
    });
  });
  const visitor = new Consumer({ clientId: 'visitor', bootstrapBrokers: brokers, groupId: group });
  const stream = await visitor.consume({ topics: [other], autocommit: false });
  await new Promise((r) => setTimeout(r, 1000));
  await stream.close();
  await visitor.close();
}

describe(`hub: a partition tail across a rejoin (${HUB_KAFKA_CLIENT})`, () => {
  it('a batch in flight during a rejoin neither skips records nor leaves the tail uncommitted', async () => {
    const brokers = cluster.brokers;
    // Partition 0 led by broker 1, partition 1 by broker 2: one fetcher each.
    await withAdmin(brokers, async (admin) => {
      await admin.createTopics({
        waitForLeaders: false,
        topics: [
          {
            topic,
            replicaAssignment: [
              { partition: 0, replicas: [1, 2] },
              { partition: 1, replicas: [2, 3] },
            ],
            configEntries: [{ name: 'min.insync.replicas', value: '1' }],
          },
        ],
      });
      await waitUntil('both partitions led', async () => {
        const [t] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
        return (t?.partitions ?? []).filter((p) => p.leader > 0).length === 2;
      });
    });
    await produce(brokers, records.slice(0, FIRST));

    const influx = new MemoryInflux();
    const pipeline = pipelineOver(influx, new MemoryCheckpoints(), 3_600_000);
    const group = `tail-${run}`;
    const source = readingSource(brokers, group);
    let joins = 0;
    let quiet: NodeJS.Timeout | undefined;
    let rejoined: () => void = () => undefined;
    const rejoin = new Promise<void>((r) => {
      rejoined = r;
    });
    let held: (() => void) | undefined;
    const holding = new Promise<void>((r) => {
      held = r;
    });
    let holds = 0;
    void source.start(
      async (b: SourceBatch) => {
        const covered = await pipeline.handle(b);
        if (process.env.TAIL_LOG)
          console.log(
            `${Date.now() % 100000} p${b.partition} ${b.flush ? 'flush' : `${b.records[0]?.offset}..${b.lastOffset}`} -> ${covered} joins ${joins}`,
          );
        // Partition 0's first batch stays in the handler until the group was rejoined (the
        // last rejoin: a later one would fetch from the committed offset again).
        if (b.partition === 0 && !b.flush && holds === 0) {
          holds += 1;
          held?.();
          await Promise.race([rejoin, new Promise((r) => setTimeout(r, 30_000))]);
        }
        return covered;
      },
      (partitions) => {
        pipeline.assign(partitions);
        joins += 1;
        // The leader move can take several rejoins (one per stale-metadata fetch error).
        clearTimeout(quiet);
        if (joins > 1) quiet = setTimeout(rejoined, 2000);
      },
    );
    try {
      await holding;
      // Partition 1's leader moves from broker 2 to broker 3: the next fetch from broker 2
      // fails with NOT_LEADER, and kafkajs rejoins the group from that fetcher.
      await withAdmin(brokers, (admin) =>
        admin.alterPartitionReassignments({
          topics: [{ topic, partitionAssignment: [{ partition: 1, replicas: [3] }] }],
        }),
      );
      // @platformatic/kafka follows a moved leader without rejoining the group: a member that
      // joins the group for another topic and leaves makes it rejoin, while the batch waits.
      if (HUB_KAFKA_CLIENT === 'platformatic') await visitGroup(brokers, group);
      await rejoin;
      expect(joins).toBeGreaterThan(1);

      // Without new records, the whole of partition 0 is checkpointed and committed soon.
      const start = Date.now();
      let tail = -1;
      while (Date.now() - start < 10 * FLUSH_AFTER_MS) {
        tail = await committed(brokers, group, 0);
        if (tail === FIRST) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const tailMs = Date.now() - start;

      // Then the rest: every record must be in the state the outputs came from.
      await produce(brokers, records.slice(FIRST));
      await waitUntil(
        'every offset committed',
        async () => (await committed(brokers, group, 0)) === records.length,
        30_000,
      );
      const reference = new MemoryInflux();
      const one = pipelineOver(reference, new MemoryCheckpoints());
      one.assign([0]);
      for (const b of batches(records, 50)) await one.handle(b);

      console.log(
        `partition-tail: rejoins ${joins - 1}; partition 0 committed ${tail} of ${FIRST} within ${tailMs} ms without new records; points ${influx.points.size} (one pass: ${reference.points.size})`,
      );
      expect(tail).toBe(FIRST);
      expect(influx.sorted()).toEqual(reference.sorted());
    } finally {
      await source.stop();
    }
  }, 120_000);
});
