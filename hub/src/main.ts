import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import { DEFAULT_DATA_DIR, dataDir, type HubConfig } from './config.ts';
import { readRulesFile } from './detect/rules-file.ts';
import { LiveFeed } from './http/dashboard/live-feed.ts';
import { PipelineFeed } from './http/dashboard/pipeline-feed.ts';
import { WebhookNotifier } from './notify/webhook.ts';
import { HealthReporter } from './ops/health-reporter.ts';
import { memoryLimits, setHeapGrowing } from './ops/heap.ts';
import { hubMetrics } from './ops/metrics.ts';
import { IdleTicker } from './pipeline/idle-ticker.ts';
import { Pipeline, type PipelineOptions } from './pipeline/pipeline.ts';
import { kafkaInput, localInput } from './wiring/inputs.ts';
import { both, settledAll, startupRetry } from './wiring/startup.ts';
import { openStore } from './wiring/stores.ts';

export interface RunningHub {
  url: string;
  stop(): Promise<void>;
}

/**
 * Wires the hub's adapters together. The only place that constructs them. `signal`: aborting
 * it ends the start-up's waiting for InfluxDB and Kafka at once (startHub rejects with its
 * reason); once those are set up the start completes, and the caller stops the hub (runCli
 * does).
 */
export async function startHub(
  configured: HubConfig,
  log?: Logger,
  observe: Pick<PipelineOptions, 'onWritten'> = {},
  signal?: AbortSignal,
): Promise<RunningHub> {
  const logger = log ?? pino({ level: configured.log.level, base: { app: 'iot-hub' } });
  // The REST API's modules (fastify and its plugins, ~0.1 s of loading) load while the store
  // and Kafka are set up, which mostly wait on the network.
  const apiModule = import('./http/api/app.ts');
  apiModule.catch(() => undefined); // (awaited below; not unhandled should start-up fail first)
  setHeapGrowing(configured.memory.heapGrowingPercent);
  logger.info(
    { ...memoryLimits(), heapGrowingPercent: configured.memory.heapGrowingPercent },
    'memory settings',
  );
  const data = dataDir(configured.storage, existsSync);
  if (data.legacy)
    logger.warn(
      { dir: data.dir, default: DEFAULT_DATA_DIR },
      'using the data folder of an older hub; move it to the default (or set storage.dir) to silence this',
    );
  const config: HubConfig = { ...configured, storage: { ...configured.storage, dir: data.dir } };
  const rules = config.stream.rulesFile ? readRulesFile(config.stream.rulesFile) : [];
  logger.info({ rules: rules.length, file: config.stream.rulesFile }, 'detection rules loaded');
  // The store and Kafka are set up side by side (each mostly waits on its server: ~0.15 s
  // each on the benchmark's machine); the first to fail for good ends the other's retries.
  const abort = new AbortController();
  const retrying = (fn: () => Promise<void>, what: string) =>
    startupRetry(fn, what, logger, abort.signal);
  const k = config.kafka;
  const { opened, input } = await both(
    openStore(config, logger, retrying),
    k.brokers
      ? kafkaInput(config, k.brokers, logger, retrying)
      : Promise.resolve().then(() => localInput(config, logger)),
    abort,
    (o) => o.close(),
    (i) => i.stop(),
    signal,
  ).then(([opened, input]) => ({ opened, input }));
  const { store } = opened;
  const { source, outputs, checkpoints } = input;
  const s = config.stream;
  // Dashboard (hub/docs/dashboard.md): written batches -> live events for GET /api/stream.
  const live = new LiveFeed();
  const liveBatches = new PipelineFeed(live);
  const pipeline = new Pipeline({
    processor: {
      tickIntervalMs: s.tickIntervalMs,
      sites: config.sites,
      maxAheadMs: s.maxAheadMs,
      core: {
        rules,
        idleCloseMs: s.idleCloseMs > 0 ? s.idleCloseMs : undefined,
        windows: {
          sizesMs: s.windowsMs,
          maxOutOfOrdernessMs: s.maxOutOfOrdernessMs,
          allowedLatenessMs: s.allowedLatenessMs,
          dedupRecordsPerDevice: s.dedupRecordsPerDevice,
          maxDevices: s.maxDevicesPerPartition,
        },
      },
    },
    store,
    outputs,
    checkpoints,
    live: input.live,
    retainedFrom: (partition) => source.retainedFrom(partition),
    source: k.topic,
    log: logger.child({ module: 'pipeline' }),
    // Both sources move their committed / pruned position only to what a checkpoint covers.
    checkpointEvery:
      s.checkpointIntervalMs > 0
        ? {
            ms: s.checkpointIntervalMs,
            records: s.checkpointMaxRecords,
            costPercent: s.checkpointCostPercent,
          }
        : undefined,
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
  /** Gateway status records written (counted here: the pipeline does not see them). */
  const statusWrites = { gatewayStatus: 0 };
  // The readings' and the gateway status' consumer groups are joined while the API starts.
  // A join can take up to a session timeout after a crash (the dead member's partitions wait
  // for it): the API answers meanwhile (health: degraded, kafka.connected false), where it
  // used to start only after both joins.
  // Both starts settle before either failure is thrown: a stop while the other is still
  // joining would be undone by it (the consumer would run on, after startHub rejected).
  const joined = settledAll([
    source
      .start(
        (batch) => pipeline.handle(batch),
        (assigned) => pipeline.assign(assigned),
      )
      .then(() => logger.info({ mode: input.mode, ...input.describe }, 'consuming')),
    input.startStatus(async (records) => {
      await store.writeGatewayStatus(records);
      statusWrites.gatewayStatus += records.length;
    }),
  ]);
  joined.catch(() => undefined); // (awaited with the API's listen below)
  if (!config.http.token)
    logger.warn(
      { key: 'http.token', env: 'HUB_API_TOKEN' },
      'NO API TOKEN CONFIGURED: the REST API answers anyone who can reach it; set http.token',
    );
  const metrics = hubMetrics(() => ({
    source: source.counters,
    pipeline: { ...pipeline.counters, ...statusWrites },
  }));
  const api = (await apiModule).buildApi({
    store,
    queries: opened.queries,
    rules,
    token: config.http.token,
    rateLimitPerMinute: config.http.rateLimitPerMinute,
    metrics: metrics.text,
    log: logger,
    live,
    ingest: input.ingest,
    health: async () => {
      const influxOk = await store.ping().catch(() => false);
      // A partition whose writes keep failing is stuck (retried, nothing committed): degraded,
      // even while the store answers pings.
      const failing = pipeline.failingPartitions();
      return {
        status: influxOk && source.connected && failing.length === 0 ? 'ok' : 'degraded',
        writes: {
          ok: failing.length === 0,
          failing: failing.map((f) => ({
            partition: f.partition,
            since: new Date(f.since).toISOString(),
            code: f.code,
          })),
        },
        mode: input.mode,
        kafka:
          input.mode === 'kafka'
            ? { connected: source.connected, topic: k.topic, groupId: k.groupId }
            : null,
        store: { kind: opened.kind, ok: influxOk },
        ...(opened.kind === 'influx' ? { influx: { ok: influxOk } } : {}),
        pipeline: { ...source.counters, ...pipeline.counters, ...statusWrites },
      };
    },
  });
  let url = '';
  try {
    await settledAll([
      api.listen({ host: config.http.host, port: config.http.port }).then((listening) => {
        url = listening;
        logger.info({ url }, 'REST API listening');
      }),
      joined,
    ]);
  } catch (err) {
    // Either failing stops the other: no consumer left running behind a port that is taken,
    // no API answering for a hub that could not join.
    await api.close().catch(() => undefined);
    liveBatches.close();
    await input.stop().catch(() => undefined);
    opened.close();
    throw err;
  }

  const health = new HealthReporter({
    instance:
      config.health.instance ??
      hostname()
        .replace(/[^A-Za-z0-9._-]/g, '_')
        .slice(0, 64),
    intervalMs: config.health.intervalMs,
    read: () => ({ ...source.counters, ...pipeline.counters }),
    resetWriteMax: () => pipeline.takeWriteMsMax(),
    write: (point) => store.writeHealth(point),
    log: logger.child({ module: 'health' }),
  });
  health.start();
  const ticker = s.idleTicks
    ? new IdleTicker({
        quietMs: s.tickIntervalMs,
        punctuate: (quietMs) => pipeline.punctuateQuiet(quietMs),
        log: logger.child({ module: 'idle-ticker' }),
      })
    : undefined;
  ticker?.start();

  return {
    url,
    async stop() {
      logger.info('stopping');
      await api.close();
      liveBatches.close();
      health.stop();
      await ticker?.stop();
      await input.stop();
      opened.close();
      logger.info('stopped');
    },
  };
}
