import {
  ConfigError,
  KafkaClientSchema,
  KafkaSecuritySchema,
  type LoadConfigOptions,
  LogConfigSchema,
  listenProperties,
  loadConfig,
  SECRET,
} from '@iot-stream/contracts';
import { type Static, Type } from '@sinclair/typebox';
import { HUB_ENV_KEYS } from './env-keys.ts';

const DURATION = '^(INF|[1-9][0-9]*(h|d|w))$';

/**
 * Where the apps keep their files unless told: one data folder, `data/`, in the folder they
 * start in; the gateway's outbox is `data/outbox.sqlite`, the hub's files go to `data/hub/`
 * (`npm start` uses `.data/` the same way). Hubs before 0.2 used `hub-data/` (see dataDir).
 */
export const DEFAULT_DATA_DIR = 'data/hub';
/** The hub's default folder before it followed the one-data-folder rule. */
export const LEGACY_DATA_DIR = 'hub-data';

export const HubConfigSchema = Type.Object({
  kafka: Type.Object(
    {
      brokers: Type.Optional(
        Type.Array(Type.String({ minLength: 1 }), {
          minItems: 1,
          description: 'Unset: single-box mode (gateways POST to /api/ingest)',
        }),
      ),
      topic: Type.String({ minLength: 1, default: 'iot.readings' }),
      deadLetterTopic: Type.String({ minLength: 1, default: 'iot.readings.dlq' }),
      groupId: Type.String({ minLength: 1, default: 'iot-hub' }),
      clientId: Type.String({ default: 'iot-hub' }),
      checkpointTopic: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,200}$' })),
      anomalyTopic: Type.String({ minLength: 1, default: 'iot.anomalies' }),
      statusTopic: Type.String({ minLength: 1, default: 'iot.gateway-status' }),
      partitions: Type.Integer({ minimum: 1, maximum: 1000, default: 6 }),
      maxBytesPerPartition: Type.Integer({
        minimum: 1024,
        default: 262_144,
        description:
          "A fetch's bytes per partition (at least one producer batch; a partition whose next batch is larger comes back only as a fetch's first): the most a batch covers",
      }),
      maxBytesPerFetch: Type.Integer({
        minimum: 1024,
        default: 524_288,
        description:
          "A fetch's bytes over all its partitions: what a hub holds in flight scales with it (kafkajs: batches still writing hold up to as much again); two partitions' batches in one let one's CPU work overlap the other's InfluxDB write (README, Measured figures)",
      }),
      partitionsConsumedConcurrently: Type.Integer({ minimum: 1, maximum: 64, default: 8 }),
      sessionTimeoutMs: Type.Integer({
        minimum: 6000,
        maximum: 300_000,
        default: 30_000,
        description:
          "The consumer groups' session timeout (readings and gateway status): how long a crashed hub's partitions wait before another hub takes them; heartbeats every tenth of it",
      }),
      security: KafkaSecuritySchema,
      client: KafkaClientSchema,
    },
    { default: {} },
  ),
  influx: Type.Object(
    {
      url: Type.Optional(
        Type.String({ description: 'Unset: readings, aggregates and anomalies in SQLite' }),
      ),
      database: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', default: 'iot' }),
      username: Type.Optional(Type.String()),
      password: Type.Optional(Type.String(SECRET)),
      token: Type.Optional(
        Type.String({
          minLength: 1,
          ...SECRET,
          description:
            'InfluxDB 2.x / 3: an API token, sent as `Authorization: Token ...` (instead of username and password)',
        }),
      ),
      manageSchema: Type.Boolean({
        default: true,
        description:
          'false: never CREATE or ALTER the database or its retention policies (InfluxDB 2.x and 3, a user without admin rights); they must exist: docs/influxdb.md',
      }),
      rawRetention: Type.String({ pattern: DURATION, default: '30d' }),
      aggregateRetention: Type.String({ pattern: DURATION, default: 'INF' }),
    },
    { default: {} },
  ),
  storage: Type.Object(
    {
      dir: Type.String({
        minLength: 1,
        default: DEFAULT_DATA_DIR,
        description:
          'Single-box mode: the local log and, without InfluxDB, the SQLite store (the gateway keeps data/outbox.sqlite: one data folder)',
      }),
      deadLetterRetention: Type.String({
        pattern: DURATION,
        default: '7d',
        description:
          'Single-box mode: dead letters (refused records, in log.db) older than this are deleted; INF: never',
      }),
      maxDeadLetters: Type.Integer({
        minimum: 1,
        default: 100_000,
        description:
          'Single-box mode: at most this many dead letters are kept; the oldest go first',
      }),
    },
    { default: {} },
  ),
  stream: Type.Object(
    {
      windowsMs: Type.Array(Type.Integer({ minimum: 1000 }), {
        minItems: 1,
        maxItems: 8,
        default: [60_000, 3_600_000],
      }),
      maxOutOfOrdernessMs: Type.Integer({ minimum: 0, default: 30_000 }),
      allowedLatenessMs: Type.Integer({ minimum: 0, default: 600_000 }),
      idleCloseMs: Type.Integer({ minimum: 0, default: 300_000 }),
      maxAheadMs: Type.Integer({
        minimum: 0,
        default: 300_000,
        description:
          "A reading stamped further ahead of its gateway's receive time is a clock fault: dead-lettered (TIME_AHEAD), never windowed",
      }),
      tickIntervalMs: Type.Integer({ minimum: 100, default: 10_000 }),
      idleTicks: Type.Boolean({
        default: true,
        description:
          'Move the time of partitions quiet for tickIntervalMs on (punctuation, in the checkpoint)',
      }),
      checkpointIntervalMs: Type.Integer({
        minimum: 0,
        default: 1000,
        description:
          'Checkpoint a partition (and commit its offsets) at most this often; 0: after every batch',
      }),
      checkpointMaxRecords: Type.Integer({
        minimum: 1,
        default: 20_000,
        description: 'and at the latest after this many records',
      }),
      checkpointCostPercent: Type.Integer({
        minimum: 1,
        maximum: 100,
        default: 10,
        description:
          "About this share of the hub's time goes to checkpoints: a partition waits at least the last checkpoint costs of all partitions held, summed, x 100 / this after its own, at most a minute (large state: longer intervals, a longer replay after a crash)",
      }),
      dedupRecordsPerDevice: Type.Integer({
        minimum: 1,
        maximum: 100_000,
        default: 256,
        description:
          "A device's last N records at most are remembered to recognise a repeat, only while not too late for the windows (README, Memory per series)",
      }),
      maxDevicesPerPartition: Type.Integer({
        minimum: 1,
        default: 10_000,
        description:
          "Devices with open windows per partition; beyond it the least recently active one's windows are finalised early",
      }),
      rulesFile: Type.Optional(Type.String({ minLength: 1 })),
    },
    { default: {} },
  ),
  memory: Type.Object(
    {
      heapGrowingPercent: Type.Integer({
        minimum: 0,
        maximum: 1000,
        default: 50,
        description:
          "V8 collects the old generation before it grows past (1 + this/100) x what survived the last collection; 0: V8's own factor (up to 4x on a machine with 16 GB or more): README, Memory",
      }),
    },
    { default: {} },
  ),
  health: Type.Object(
    {
      intervalMs: Type.Integer({ minimum: 1000, default: 10_000 }),
      instance: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })),
    },
    { default: {} },
  ),
  sites: Type.Array(
    Type.Object(
      {
        name: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
        devices: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
      },
      { additionalProperties: false },
    ),
    {
      default: [],
      description:
        'Site tags by device-id pattern (* wildcard), first match wins; else the gateway site',
    },
  ),
  webhook: Type.Object(
    {
      url: Type.Optional(
        Type.String({
          pattern: '^https?://',
          ...SECRET,
          description: 'Slack-style incoming webhook; its path is a secret',
        }),
      ),
      events: Type.Array(
        Type.Union([
          Type.Literal('opened'),
          Type.Literal('updated'),
          Type.Literal('renotify'),
          Type.Literal('closed'),
        ]),
        { default: ['opened', 'renotify', 'closed'] },
      ),
      timeoutMs: Type.Integer({ minimum: 100, default: 5000 }),
      maxAttempts: Type.Integer({ minimum: 1, maximum: 100, default: 8 }),
      afterCrash: Type.Union([Type.Literal('skip'), Type.Literal('resend')], {
        default: 'skip',
        description:
          'What a hub does with notifications a crashed hub had begun sending: skip (log them; never a repeat) or resend (never a loss; may repeat)',
      }),
    },
    { default: {} },
  ),
  http: Type.Object(
    {
      ...listenProperties(8080),
      token: Type.Optional(Type.String({ minLength: 16, ...SECRET })),
      rateLimitPerMinute: Type.Integer({ minimum: 1, default: 600 }),
    },
    { default: {} },
  ),
  log: LogConfigSchema,
});

export type HubConfig = Static<typeof HubConfigSchema>;

export { HUB_ENV_KEYS };

export function loadHubConfig(options: Omit<LoadConfigOptions, 'envKeys'>): HubConfig {
  const config = loadConfig(HubConfigSchema, { ...options, envKeys: HUB_ENV_KEYS });
  if (config.influx.token !== undefined && config.influx.username !== undefined)
    throw new ConfigError(
      'influx.token and influx.username are both set: use the token (InfluxDB 2.x / 3) or username and password (1.x), not both',
    );
  return config;
}

/** The topics a hub reads and writes besides its checkpoints, with their partition counts. */
export function hubTopics(kafka: HubConfig['kafka']): { topic: string; partitions: number }[] {
  return [
    { topic: kafka.topic, partitions: kafka.partitions },
    { topic: kafka.deadLetterTopic, partitions: 1 },
    { topic: kafka.anomalyTopic, partitions: kafka.partitions },
    { topic: kafka.statusTopic, partitions: 1 },
  ];
}

/** The checkpoint topic: configured, or one per consumer group and readings topic. */
export function checkpointTopicOf(kafka: HubConfig['kafka']): string {
  const name = `${kafka.groupId}.${kafka.topic}.checkpoints`.replace(/[^A-Za-z0-9._-]/g, '_');
  return kafka.checkpointTopic ?? name.slice(0, 249);
}

/**
 * The data folder in use: `storage.dir`, except that a hub left at the default keeps using an
 * existing `hub-data/` of an older version (when `data/hub/` does not exist yet), so an
 * upgrade never leaves readings behind in a folder nobody reads.
 */
export function dataDir(
  storage: HubConfig['storage'],
  exists: (path: string) => boolean,
): { dir: string; legacy: boolean } {
  const legacy =
    storage.dir === DEFAULT_DATA_DIR && !exists(DEFAULT_DATA_DIR) && exists(LEGACY_DATA_DIR);
  return { dir: legacy ? LEGACY_DATA_DIR : storage.dir, legacy };
}
