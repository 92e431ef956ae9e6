import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InfluxDB } from 'influx';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { describe, expect, inject, it, vi } from 'vitest';
import { REPO_ROOT, type ServicesState } from '../../scripts/services/cli-state.ts';
import { startInflux } from '../../scripts/services/influx.ts';
import { startKafka } from '../../scripts/services/kafka.ts';
import { pidAlive } from '../../scripts/services/pids.ts';
import { forgetScratchDir, removeOnExit } from '../../scripts/services/reaper.ts';

const run = promisify(execFile);
const suffix = () => randomBytes(4).toString('hex');

function client(brokers: string[]): Kafka {
  return new Kafka({
    clientId: 'harness-test',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 100, retries: 15 },
  });
}

/** Rejects after `ms` so a lost message fails with a reason instead of the test timeout. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('services from the global setup', () => {
  const brokers = inject('kafkaBrokers');
  const influxUrl = inject('influxUrl');

  it('kcat (librdkafka) sees the broker', async () => {
    const broker = brokers[0]!;
    const { stdout } = await run('kcat', ['-L', '-b', broker, '-J', '-m', '10']);
    const metadata = JSON.parse(stdout) as { brokers: { id: number; name: string }[] };
    expect(metadata.brokers.map((b) => b.name)).toContain(broker);
  });

  it('kafkajs produces and consumes a message on a fresh topic', async () => {
    const topic = `harness-${suffix()}`;
    const kafka = client(brokers);
    const admin = kafka.admin();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const consumer = kafka.consumer({ groupId: `harness-${suffix()}` });
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: `hello ${topic}` }] });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = new Promise<string>((resolve) => {
        void consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) });
      });
      expect(await within(30_000, 'consume', received)).toBe(`hello ${topic}`);
    } finally {
      await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
    }
  });

  it('InfluxDB answers /ping and round-trips a point through node-influx', async () => {
    expect((await fetch(`${influxUrl}/ping`)).status).toBe(204);
    const database = `harness_${suffix()}`;
    const influx = new InfluxDB(`${influxUrl}/${database}`);
    await influx.createDatabase(database);
    try {
      const time = new Date('2024-01-02T03:04:05.000Z');
      await influx.writePoints([
        {
          measurement: 'reading',
          tags: { device: 'd1' },
          fields: { value: 21.5 },
          timestamp: time,
        },
      ]);
      const rows = await influx.query<{ device: string; value: number }>('select * from reading');
      expect(rows.map((r) => ({ device: r.device, value: r.value }))).toEqual([
        { device: 'd1', value: 21.5 },
      ]);
    } finally {
      await influx.dropDatabase(database);
    }
  });
});

describe('3-node Kafka cluster', () => {
  it('keeps accepting acks=-1 writes with one node SIGKILLed, and takes it back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iot-kafka3-'));
    removeOnExit(dir);
    const cluster = await startKafka({ nodes: 3, dir, log: () => {} });
    const kafka = client(cluster.brokers);
    const admin = kafka.admin();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const topic = `harness-${suffix()}`;
    try {
      await admin.connect();
      // waitForLeaders (on by default): on 3 brokers kafkajs fails it with UNKNOWN_TOPIC_OR_PARTITION when
      // it asks a broker whose metadata has not caught up yet. Poll until all 3 are in sync.
      await admin.createTopics({
        topics: [{ topic, numPartitions: 1, replicationFactor: 3 }],
        waitForLeaders: false,
      });
      const partition = await vi.waitFor(
        async () => {
          const [p] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions;
          if (p === undefined || p.leader < 1 || p.isr.length !== 3) throw new Error('not in sync');
          return p;
        },
        { timeout: 30_000, interval: 200 },
      );
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ value: 'before' }] });

      const victim = partition.leader - 1; // node ids are index + 1: kill the partition leader
      await cluster.stopNode(victim, 'SIGKILL');
      await producer.send({ topic, acks: -1, messages: [{ value: 'during' }] });

      await cluster.startNode(victim);
      await producer.send({ topic, acks: -1, messages: [{ value: 'after' }] });
      const offsets = await admin.fetchTopicOffsets(topic);
      expect(offsets.map((o) => o.high)).toEqual(['3']);
    } finally {
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
      forgetScratchDir(dir);
    }
  }, 90_000);
});

describe('InfluxDB restart', () => {
  it('keeps its data and port across stop() and start()', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iot-influx-'));
    removeOnExit(dir);
    const server = await startInflux({ dir, log: () => {} });
    try {
      const influx = new InfluxDB(`${server.url}/restart`);
      await influx.createDatabase('restart');
      await influx.writePoints([{ measurement: 'reading', fields: { value: 1 } }]);
      await server.stop();
      expect(server.pid()).toBeUndefined();
      await expect(fetch(`${server.url}/ping`)).rejects.toThrow();
      await server.start();
      const rows = await influx.query<{ value: number }>('select value from reading');
      expect(rows.map((r) => r.value)).toEqual([1]);
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
      forgetScratchDir(dir);
    }
  });
});

describe('services CLI', () => {
  const cli = join(import.meta.dirname, '..', '..', 'scripts', 'services', 'cli.ts');
  const services = (args: string[]) =>
    run(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: REPO_ROOT, timeout: 120_000 });

  it('up, status, down', async () => {
    // Own state dir: never touches services a developer started with `npm run services -- up`.
    const stateDir = await mkdtemp(join(tmpdir(), 'iot-cli-state-'));
    const at = ['--state-dir', stateDir];
    try {
      const up = await services(['up', ...at]);
      expect(up.stdout).toMatch(
        /^KAFKA_BROKERS=127\.0\.0\.1:\d+\nINFLUX_URL=http:\/\/127\.0\.0\.1:\d+\n$/,
      );
      const state = JSON.parse(
        await readFile(join(stateDir, 'state.json'), 'utf8'),
      ) as ServicesState;
      const pids = [...state.kafka!.nodes.map((n) => n.pid), state.influx!.pid];
      expect(pids.every((pid) => pidAlive(pid))).toBe(true);

      expect((await services(['up', ...at])).stdout).toBe(up.stdout); // already up: reprints

      const status = await services(['status', ...at]);
      expect(status.stdout).toMatch(/kafka-1 .* up \(registered\)/);
      expect(status.stdout).toMatch(/influxd .* up \(\/ping 204\)/);

      const down = await services(['down', ...at]);
      expect(down.stderr).toMatch(/stopped kafka-1/);
      expect(existsSync(join(stateDir, 'state.json'))).toBe(false);
      expect(existsSync(state.dir)).toBe(false);
      expect(pids.some((pid) => pidAlive(pid))).toBe(false);

      await expect(services(['status', ...at])).rejects.toMatchObject({ code: 1 });
    } finally {
      await services(['down', ...at]).catch(() => {});
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 90_000);
});
