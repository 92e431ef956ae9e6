import { type ReadingRecord, seededRandom } from '@iot-stream/contracts';
import { InfluxDB } from 'influx';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';

export const T0 = Date.UTC(2026, 10, 22);

/** A seeded generator (contracts' mulberry32). */
export const rng = seededRandom;

/**
 * A fleet's readings every second in gateway order: out of order within 20 s, spikes every 97,
 * duplicates (resends) every 50, a too-late reading every 211 and a silent device.
 */
export function fleetRecords(devices: number, perDevice: number, seed = 1): ReadingRecord[] {
  const rnd = rng(seed);
  const out: ReadingRecord[] = [];
  let gatewaySeq = 0;
  for (let i = 0; i < perDevice; i += 1) {
    for (let d = 0; d < devices; d += 1) {
      const deviceId = `dev-${d}`;
      if (d === 1 && i > perDevice / 3 && i < perDevice / 2) continue;
      const time = T0 + i * 1000 + Math.floor(rnd() * 20_000);
      gatewaySeq += 1;
      const r: ReadingRecord = {
        v: 1,
        gatewayId: 'gw-1',
        gatewaySeq,
        deviceId,
        session: 1,
        seq: i % 65_536,
        time,
        receivedAt: T0 + 20_000 + i * 1000 + d, // after the device measured (time)
        metrics: {
          temperature: { value: i % 97 === 0 ? 80 : 20 + rnd(), unit: 'Cel' },
          humidity: { value: 40 + rnd() * 5, unit: '%RH' },
        },
      };
      out.push(r);
      if (gatewaySeq % 50 === 0) out.push({ ...r, receivedAt: r.receivedAt + 1 });
      if (gatewaySeq % 211 === 0) {
        gatewaySeq += 1;
        out.push({
          ...r,
          gatewaySeq,
          session: 2,
          time: time - 3_600_000,
          receivedAt: T0 + 20_000 + i * 1000 + d, // after the device measured (time)
        });
      }
    }
  }
  return out;
}

export const RULES_YAML = `rules:
  - id: limits
    metric: temperature
    detector: range
    params: { min: 0, max: 40 }
    severity: critical
  - id: silent
    metric: temperature
    detector: heartbeat
    params: { expectedMs: 1000 }
  - id: novel
    metric: humidity
    params: { warmup: 50, history: 300 }
`;

export async function produce(brokers: string[], topic: string, records: ReadingRecord[]) {
  const kafka = new Kafka({ brokers, clientId: 'test-producer', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < records.length; i += 2000) {
    await producer.send({
      topic,
      acks: -1,
      messages: records.slice(i, i + 2000).map((r) => ({
        key: r.deviceId,
        value: JSON.stringify(r),
        headers: { 'iot-record-version': '1' },
      })),
    });
  }
  await producer.disconnect();
}

/** Committed offsets of the group summed over the topic, and the topic's end. */
export async function progress(brokers: string[], topic: string, groupId: string) {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const sum = (xs: { offset: string }[]) =>
      xs.reduce((n, x) => n + Math.max(0, Number(x.offset)), 0);
    return {
      committed: sum(committed?.partitions ?? []),
      end: ends.reduce((n, e) => n + Number(e.high), 0),
    };
  } finally {
    await admin.disconnect();
  }
}

export async function topicSize(brokers: string[], topic: string): Promise<number> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    return ends.reduce((n, e) => n + Number(e.high) - Number(e.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** A topic's partition count and configuration (each entry's value, defaults included). */
export async function topicShape(
  brokers: string[],
  topic: string,
): Promise<{ partitions: number; configs: Record<string, string> }> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      includeSynonyms: false,
    });
    return {
      partitions: (await admin.fetchTopicOffsets(topic)).length,
      configs: Object.fromEntries(
        (resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]),
      ),
    };
  } finally {
    await admin.disconnect();
  }
}

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The Kafka client the hubs of these tests run with: HUB_KAFKA_CLIENT (kafkajs, the default, or
 * platformatic), so each hub integration test runs against either (README, issue 15).
 */
export const HUB_KAFKA_CLIENT =
  process.env.HUB_KAFKA_CLIENT === 'platformatic' ? 'platformatic' : 'kafkajs';

export function startHub(options: {
  brokers: string[];
  influxUrl: string;
  topic: string;
  group: string;
  database: string;
  config: string;
  logFile: string;
  env?: Record<string, string>;
}): AppProcess {
  return spawnApp({
    name: 'hub',
    bin: BINS.hub,
    args: [
      '--config',
      options.config,
      '--brokers',
      options.brokers.join(','),
      '--topic',
      options.topic,
      '--group',
      options.group,
    ],
    env: {
      INFLUX_URL: options.influxUrl,
      INFLUX_DATABASE: options.database,
      HUB_HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      HUB_KAFKA_CLIENT,
      ...options.env,
    },
    logFile: options.logFile,
  });
}

/** Everything the hub wrote, in a canonical order: the InfluxDB contents to compare. */
export async function dumpInflux(
  url: string,
  database: string,
): Promise<Record<string, unknown[]>> {
  const u = new URL(url);
  const influx = new InfluxDB({ host: u.hostname, port: Number(u.port), database });
  const out: Record<string, unknown[]> = {};
  for (const m of ['"raw"."readings"', '"long"."aggregates"', '"long"."anomalies"']) {
    const rows = await influx.query(`SELECT * FROM ${m} ORDER BY time ASC`, { precision: 'ms' });
    out[m] = rows
      .map((r) => JSON.stringify({ ...r, time: (r as { time: Date }).time.getTime() }))
      .sort();
  }
  return out;
}
