import { hostname } from 'node:os';
import { ensureTopic, pinoLogCreator } from '@iot-stream/contracts';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import pino, { type Logger } from 'pino';
import { buildApi } from './api.ts';
import { checkpointTopicOf, type HubConfig } from './config.ts';
import { LiveFeed } from './dashboard/live-feed.ts';
import { PipelineFeed } from './dashboard/pipeline-feed.ts';
import { readRulesFile } from './detect/rules-file.ts';
import { HealthReporter } from './health-reporter.ts';
import { InfluxQueries } from './influx-queries.ts';
import { InfluxStore } from './influx-store.ts';
import { KafkaCheckpointStore } from './kafka/checkpoint-store.ts';
import { IdleTicker } from './kafka/idle-ticker.ts';
import { KafkaReadingSource } from './kafka/kafka-source.ts';
import { KafkaPublisher } from './kafka/publisher.ts';
import { KafkaStatusSource } from './kafka/status-source.ts';
import { hubMetrics } from './metrics.ts';
import { WebhookNotifier } from './notify/webhook.ts';
import { Pipeline, type PipelineOptions } from './pipeline.ts';

export interface RunningHub {
  url: string;
  stop(): Promise<void>;
}

/** Wires the hub's adapters together. The only place that constructs them. */
export async function startHub(
  config: HubConfig,
  log?: Logger,
  observe: Pick<PipelineOptions, 'onWritten'> = {},
): Promise<RunningHub> {
  const logger = log ?? pino({ level: config.log.level, base: { app: 'iot-hub' } });
  const rules = config.stream.rulesFile ? readRulesFile(config.stream.rulesFile) : [];
  logger.info({ rules: rules.length, file: config.stream.rulesFile }, 'detection rules loaded');
  const store = new InfluxStore(config.influx);
  await retry(() => store.init(), 'InfluxDB', logger);
  logger.info({ url: config.influx.url, database: config.influx.database }, 'InfluxDB ready');

  const k = config.kafka;
  let partitions = k.partitions;
  await retry(
    async () => {
      const admin = new Kafka({ brokers: [...k.brokers], logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        await ensureTopic(admin, k.topic, k.partitions, logger);
        await ensureTopic(admin, k.deadLetterTopic, 1, logger);
        await ensureTopic(admin, k.anomalyTopic, k.partitions, logger);
        await ensureTopic(admin, k.statusTopic, 1, logger);
        partitions = (await admin.fetchTopicOffsets(k.topic)).length;
      } finally {
        await admin.disconnect();
      }
    },
    'Kafka',
    logger,
  );

  const kafka = new Kafka({
    clientId: k.clientId,
    brokers: [...k.brokers],
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(logger.child({ module: 'kafka' })),
  });
  const publisher = new KafkaPublisher(
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    }),
  );
  await publisher.connect();
  const checkpoints = new KafkaCheckpointStore({
    kafka,
    publisher,
    topic: checkpointTopicOf(k),
    sourceTopic: k.topic,
    groupId: k.groupId,
    log: logger.child({ module: 'checkpoints' }),
  });
  await retry(() => checkpoints.init(partitions), 'Kafka checkpoint topic', logger);
  const s = config.stream;
  // Dashboard (hub/docs/dashboard.md): written batches -> live events for GET /api/stream.
  const live = new LiveFeed();
  const liveBatches = new PipelineFeed(live);
  const pipeline = new Pipeline({
    processor: {
      tickIntervalMs: s.tickIntervalMs,
      sites: config.sites,
      core: {
        rules,
        idleCloseMs: s.idleCloseMs > 0 ? s.idleCloseMs : undefined,
        windows: {
          sizesMs: s.windowsMs,
          maxOutOfOrdernessMs: s.maxOutOfOrdernessMs,
          allowedLatenessMs: s.allowedLatenessMs,
        },
      },
    },
    store,
    publisher,
    checkpoints,
    topics: { source: k.topic, deadLetter: k.deadLetterTopic, anomalies: k.anomalyTopic },
    log: logger.child({ module: 'pipeline' }),
    notifyOn: config.webhook.events,
    resendAttempted: config.webhook.afterCrash === 'resend',
    ...observe,
    onWritten: (out, ackedAt) => {
      liveBatches.onWritten(out);
      observe.onWritten?.(out, ackedAt);
    },
    notifier: config.webhook.url
      ? new WebhookNotifier({
          url: config.webhook.url,
          timeoutMs: config.webhook.timeoutMs,
          maxAttempts: config.webhook.maxAttempts,
          log: logger.child({ module: 'webhook' }),
        })
      : undefined,
  });
  logger.info(
    { webhook: config.webhook.url ? new URL(config.webhook.url).host : null },
    config.webhook.url
      ? 'anomaly notifications on (host shown; the URL may hold a secret)'
      : 'anomaly notifications off (webhook.url unset)',
  );
  const source = new KafkaReadingSource({ ...k, log: logger.child({ module: 'kafka-source' }) });
  await source.start(
    (batch) => pipeline.handle(batch),
    (assigned) => pipeline.assign(assigned),
  );
  logger.info({ topic: config.kafka.topic, groupId: config.kafka.groupId }, 'consuming');

  const status = new KafkaStatusSource({
    brokers: k.brokers,
    clientId: k.clientId,
    groupId: `${k.groupId}.gateway-status`,
    topic: k.statusTopic,
    log: logger.child({ module: 'status-source' }),
    write: async (records) => {
      await store.writeGatewayStatus(records);
      pipeline.counters.gatewayStatus += records.length;
    },
  });
  await status.start();
  const health = new HealthReporter({
    instance:
      config.health.instance ??
      hostname()
        .replace(/[^A-Za-z0-9._-]/g, '_')
        .slice(0, 64),
    intervalMs: config.health.intervalMs,
    read: () => ({ ...source.counters, ...pipeline.counters }),
    resetWriteMax: () => {
      pipeline.counters.writeMsMax = 0;
    },
    write: (point) => store.writeHealth(point),
    log: logger.child({ module: 'health' }),
  });
  health.start();
  const ticker = s.idleTicks
    ? new IdleTicker({
        topic: k.topic,
        quietMs: s.tickIntervalMs,
        quiet: (now, quietMs) => pipeline.quietPartitions(now, quietMs),
        send: (topic, messages) => publisher.send(topic, messages),
        log: logger.child({ module: 'idle-ticker' }),
      })
    : undefined;
  ticker?.start();

  if (!config.http.token)
    logger.warn(
      { key: 'http.token', env: 'HUB_API_TOKEN' },
      'NO API TOKEN CONFIGURED: the REST API answers anyone who can reach it; set http.token',
    );
  const metrics = hubMetrics(() => ({ source: source.counters, pipeline: pipeline.counters }));
  const api = buildApi({
    store,
    queries: new InfluxQueries(store),
    rules,
    token: config.http.token,
    rateLimitPerMinute: config.http.rateLimitPerMinute,
    metrics: metrics.text,
    log: logger,
    live,
    health: async () => {
      const influxOk = await store.ping().catch(() => false);
      return {
        status: influxOk && source.connected ? 'ok' : 'degraded',
        kafka: {
          connected: source.connected,
          topic: config.kafka.topic,
          groupId: config.kafka.groupId,
        },
        influx: { ok: influxOk },
        pipeline: { ...source.counters, ...pipeline.counters },
      };
    },
  });
  const url = await api.listen({ host: config.http.host, port: config.http.port });
  logger.info({ url }, 'REST API listening');
  return {
    url,
    async stop() {
      logger.info('stopping');
      await api.close();
      liveBatches.close();
      health.stop();
      ticker?.stop();
      await source.stop();
      await status.stop();
      await checkpoints.close();
      await publisher.disconnect();
      logger.info('stopped');
    },
  };
}

/** Start-up waits for a dependency that is still coming up, saying so, rather than dying. */
async function retry(
  fn: () => Promise<void>,
  what: string,
  log: Logger,
  attempts = 30,
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts) throw err;
      if (attempt === 1 || attempt % 5 === 0)
        log.warn({ err, attempt }, `${what} not reachable yet; retrying`);
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * attempt)));
    }
  }
}
