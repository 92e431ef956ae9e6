import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KAFKA_VERSION } from '../../../scripts/services/kafka-jars.ts';

/** The version the issue's figures were measured with; `TELEGRAF_VERSION` overrides. */
export const TELEGRAF_VERSION = process.env.TELEGRAF_VERSION ?? 'v1.36.4';

/** Only the plugins the benchmarks use (a full Telegraf takes far longer to build). */
export const TELEGRAF_TAGS = [
  'custom',
  'inputs.mqtt_consumer',
  'inputs.kafka_consumer',
  'outputs.kafka',
  'outputs.influxdb',
  'parsers.json_v2',
  'serializers.json',
];

/**
 * Telegraf built from the Go module proxy (`go install` with the tags above) into
 * ~/.cache/iot-stream/telegraf-<version>-<tags hash>/bin, once: later runs reuse it.
 * `TELEGRAF_BIN` points at another binary instead. About 5-15 minutes the first time.
 */
export async function ensureTelegraf(log: (m: string) => void): Promise<string> {
  if (process.env.TELEGRAF_BIN) return process.env.TELEGRAF_BIN;
  const tags = TELEGRAF_TAGS.join(',');
  const hash = createHash('sha1').update(tags).digest('hex').slice(0, 8);
  const dir = join(homedir(), '.cache', 'iot-stream', `telegraf-${TELEGRAF_VERSION}-${hash}`);
  const bin = join(dir, 'bin', 'telegraf');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  log(`building Telegraf ${TELEGRAF_VERSION} from the Go module proxy (once; cached in ${dir})`);
  const started = Date.now();
  await promisify(execFile)(
    'go',
    ['install', '-tags', tags, `github.com/influxdata/telegraf/cmd/telegraf@${TELEGRAF_VERSION}`],
    { env: { ...process.env, GOBIN: join(dir, 'bin') }, maxBuffer: 64 * 1024 * 1024 },
  ).catch((err: Error & { stderr?: string }) => {
    throw new Error(
      `could not build Telegraf (is Go installed and proxy.golang.org reachable?): ` +
        `${err.stderr?.split('\n').slice(-5).join('\n') ?? err.message}`,
    );
  });
  log(`  built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return bin;
}

export interface TelegrafKafkaToInflux {
  brokers: string[];
  topic: string;
  group: string;
  influxUrl: string;
  database: string;
}

/** A json_v2 parser's tags or fields: `[[<plugin>.json_v2.<kind>]]` tables, one per entry. */
function jsonV2(plugin: string, kind: 'tag' | 'field', entries: Record<string, string>[]): string {
  return entries
    .map(
      (e) =>
        `    [[${plugin}.json_v2.${kind}]]\n${Object.entries(e)
          .map(([k, v]) => `      ${k} = ${v.includes('"') ? `'${v}'` : `"${v}"`}\n`)
          .join('')}`,
    )
    .join('');
}

/** The benchmark records' two metrics, as json_v2 fields named after them. */
const METRIC_FIELDS = ['temperature', 'humidity'].map((m) => ({
  path: `metrics.${m}.value`,
  rename: m,
}));

const brokerList = (brokers: readonly string[]) => brokers.map((b) => `"${b}"`).join(', ');

/**
 * The brokers' version, as the Kafka plugins' documentation asks: without it sarama speaks an
 * old protocol, and Kafka down-converts every batch it fetches for Telegraf and converts what
 * it produces (Java Flight Recorder showed it).
 */
const kafkaVersion = () => process.env.TELEGRAF_KAFKA_VERSION ?? KAFKA_VERSION;

/**
 * The points Telegraf writes for each record: `record`, what a Telegraf user would write for
 * our records (see the README's record format): one point, both metrics and the gateway's seq
 * as fields, device and gateway as tags; `hub`, the hub's own points (hub/src/influx/lines.ts:
 * one per metric, tagged device, gateway, metric, site and unit, with the fields gateway_seq,
 * seq and value): InfluxDB's work for the hub's data model, without the hub.
 */
export type TelegrafPoints = 'record' | 'hub';

/** Kafka consumer from the oldest offset, InfluxDB output (the hub peers benchmark). */
export function kafkaToInfluxConfig(
  o: TelegrafKafkaToInflux,
  points: TelegrafPoints = 'record',
): string {
  return `[agent]
  interval = "10s"
  flush_interval = "1s"
  metric_batch_size = 5000
  metric_buffer_limit = 100000
  omit_hostname = true

[[inputs.kafka_consumer]]
  brokers = [${brokerList(o.brokers)}]
  topics = ["${o.topic}"]
  consumer_group = "${o.group}"
  offset = "oldest"
  max_undelivered_messages = 10000
  ## The brokers' version, as the plugin's documentation asks: without it sarama speaks an old
  ## protocol and Kafka down-converts every batch it fetches (Java Flight Recorder showed it).
  version = "${kafkaVersion()}"
${points === 'hub' ? HUB_POINTS : RECORD_POINTS}
[[outputs.influxdb]]
  urls = ["${o.influxUrl}"]
  database = "${o.database}"
`;
}

/** A `readings` json_v2 section of the Kafka input: device and gateway tags, then `tags`, `fields`. */
function readingsSection(tags: Record<string, string>[], fields: Record<string, string>[]) {
  return `  [[inputs.kafka_consumer.json_v2]]
    measurement_name = "readings"
    timestamp_path = "time"
    timestamp_format = "unix_ms"
${jsonV2('inputs.kafka_consumer', 'tag', [
  { path: 'deviceId', rename: 'device' },
  { path: 'gatewayId', rename: 'gateway' },
  ...tags,
])}${jsonV2('inputs.kafka_consumer', 'field', fields)}`;
}

const RECORD_POINTS = `  data_format = "json_v2"
${readingsSection([], [...METRIC_FIELDS, { path: 'gatewaySeq', rename: 'gateway_seq', type: 'int' }])}`;

/**
 * The hub's points (no sites configured: every device's site is `unassigned`) through json_v2:
 * a section per metric of the benchmark's records, its name a GJSON literal. (The xpath_json
 * parser, which InfluxData recommends for new configurations, can select the metrics without
 * naming them, `metric_selection = "/metrics/*"`, but cost Telegraf 7.6 CPU s per 100k records
 * against ~4 with these sections (one run each; README, hub against Telegraf.)
 */
const HUB_POINTS = `  data_format = "json_v2"
${['temperature', 'humidity']
  .map((m) =>
    readingsSection(
      [
        { path: `!"${m}"`, rename: 'metric' },
        { path: '!"unassigned"', rename: 'site' },
        { path: `metrics.${m}.unit`, rename: 'unit' },
      ],
      [
        { path: 'gatewaySeq', rename: 'gateway_seq', type: 'int' },
        { path: 'seq', type: 'int' },
        { path: `metrics.${m}.value`, rename: 'value', type: 'float' },
      ],
    ),
  )
  .join('')}`;

export interface TelegrafMqttToKafka {
  mqttUrl: string;
  brokers: string[];
  topic: string;
  /** memory: Telegraf's default; disk: its durable write-ahead buffer (1.33+). */
  buffer: 'memory' | 'disk';
  dir: string;
}

/**
 * The configuration a Telegraf user would write for our JSON readings: MQTT consumer at QoS 1
 * with a persistent session, the device id from the topic, both metrics and the device's time
 * from the payload, Kafka output with acks from all replicas (as the gateway's producer).
 */
export function mqttToKafkaConfig(o: TelegrafMqttToKafka): string {
  const server = o.mqttUrl.replace(/^mqtt:/, 'tcp:');
  return `[agent]
  interval = "10s"
  flush_interval = "1s"
  metric_batch_size = 1000
  metric_buffer_limit = 100000
  omit_hostname = true
  buffer_strategy = "${o.buffer}"
  buffer_directory = "${join(o.dir, 'telegraf-buffer')}"

[[inputs.mqtt_consumer]]
  servers = ["${server}"]
  topics = ["iot/v1/+/data"]
  qos = 1
  persistent_session = true
  client_id = "telegraf-bench-${o.buffer}"
  max_undelivered_messages = 1000
  data_format = "json_v2"
  [[inputs.mqtt_consumer.topic_parsing]]
    topic = "iot/v1/+/data"
    tags = "_/_/device/_"
  [[inputs.mqtt_consumer.json_v2]]
    measurement_name = "reading"
    timestamp_path = "time"
    timestamp_format = "unix_ms"
${jsonV2('inputs.mqtt_consumer', 'field', [{ path: 'seq', type: 'int' }, ...METRIC_FIELDS])}
[[outputs.kafka]]
  brokers = [${brokerList(o.brokers)}]
  topic = "${o.topic}"
  required_acks = -1
  version = "${kafkaVersion()}"
  data_format = "json"
`;
}

/**
 * Starts `telegraf --config FILE`; resolves once it logged that it is running (`ready`: the
 * MQTT input's connection, by default; the Kafka input says nothing until it has records).
 */
export async function startTelegraf(
  bin: string,
  config: string,
  dir: string,
  name: string,
  ready = /Connected \[tcp|Successfully connected|Started the/,
): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, config);
  mkdirSync(join(dir, 'telegraf-buffer'), { recursive: true });
  const child = spawn(bin, ['--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const running = new Promise<void>((resolve, reject) => {
    const onText = (b: Buffer) => {
      output += b.toString();
      if (ready.test(output)) resolve();
    };
    child.stdout?.on('data', onText);
    child.stderr?.on('data', onText);
    child.once('exit', (code) => reject(new Error(`telegraf exited (${code}):\n${output}`)));
    setTimeout(() => reject(new Error(`telegraf not ready in 30 s:\n${output}`)), 30_000);
  });
  await running;
  return {
    child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
