import { execFileSync } from 'node:child_process';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { type Services, startServices } from '../../../scripts/services/services.ts';
import { sleep } from './proc.ts';

export interface BenchKafka {
  brokers: string[];
  kafka: Kafka;
  admin: Admin;
  /** Broker pids when the benchmark started Kafka itself (for CPU accounting). */
  pids: number[];
  /** Where the brokers came from. */
  source: string;
  close(): Promise<void>;
}

/** Uses KAFKA_BROKERS when set, otherwise starts a single-node Kafka through the harness. */
export async function openKafka(): Promise<BenchKafka> {
  const fromEnv = process.env.KAFKA_BROKERS;
  let services: Services | undefined;
  if (!fromEnv) services = await startServices({ influx: false });
  const brokers = fromEnv ? fromEnv.split(',') : (services?.kafkaBrokers ?? []);
  const kafka = new Kafka({ clientId: 'gateway-bench', brokers, logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  return {
    brokers,
    kafka,
    admin,
    pids: services
      ? (services.kafka?.nodes().flatMap((n) => (n.pid === undefined ? [] : [n.pid])) ?? [])
      : brokers.flatMap((b) => listenerPid(Number(b.split(':').at(-1))) ?? []),
    source: fromEnv ? 'KAFKA_BROKERS' : 'harness (single node, started for this run)',
    async close() {
      await admin.disconnect();
      await services?.stop();
    },
  };
}

/** The pid of the local process listening on `port` (via `ss`), when there is one. */
function listenerPid(port: number): number | undefined {
  try {
    const out = execFileSync('ss', ['-Htlnp', `sport = :${port}`], { encoding: 'utf8' });
    const pid = /pid=(\d+)/.exec(out)?.[1];
    return pid === undefined ? undefined : Number(pid);
  } catch {
    return undefined;
  }
}

export async function createTopic(admin: Admin, topic: string, partitions = 6): Promise<void> {
  await admin.createTopics({
    topics: [{ topic, numPartitions: partitions }],
    waitForLeaders: true,
  });
}

/** Records in the topic: the sum of the partitions' end offsets (the topics start empty). */
export async function topicCount(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

/** Records of `topic` a consumer group has committed, over all partitions. */
export async function committedCount(
  admin: Admin,
  topic: string,
  groupId: string,
): Promise<number> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] }).catch(() => []);
  return (t?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}

export interface CountProgress {
  /** Epoch ms of the first poll that saw at least one record. */
  firstAt: number;
  /** Epoch ms of the first poll that saw at least `target` records. */
  doneAt: number;
  count: number;
}

/**
 * Polls the topic's end offsets every `everyMs` until they sum to `target`; rejects after
 * `timeoutMs` with the count reached.
 */
export async function waitForCount(
  admin: Admin,
  topic: string,
  target: number,
  { everyMs = 50, timeoutMs = 300_000 } = {},
): Promise<CountProgress> {
  const deadline = Date.now() + timeoutMs;
  let firstAt = 0;
  for (;;) {
    const count = await topicCount(admin, topic);
    const now = Date.now();
    if (count > 0 && firstAt === 0) firstAt = now;
    if (count >= target) return { firstAt, doneAt: now, count };
    if (now > deadline) {
      throw new Error(`topic ${topic}: ${count} of ${target} records after ${timeoutMs} ms`);
    }
    await sleep(everyMs);
  }
}
