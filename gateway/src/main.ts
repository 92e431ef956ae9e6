import pino, { type Logger } from 'pino';
import type { GatewayConfig } from './config.ts';
import { buildGatewayHttp } from './ops/http.ts';
import { buildMetrics } from './ops/metrics.ts';
import type { GatewaySnapshot } from './ops/snapshot.ts';
import { SqliteOutbox } from './outbox/sqlite-outbox.ts';
import { startSources } from './sources/registry.ts';
import { Forwarder } from './uplink/forwarder.ts';
import { HttpSink } from './uplink/http-sink.ts';
import { KafkaSink } from './uplink/kafka-sink.ts';
import { StatusReporter } from './uplink/status-reporter.ts';

export interface RunningGateway {
  /** Embedded broker port (undefined when it is off). */
  mqttPort: number | undefined;
  httpUrl: string;
  stop(): Promise<void>;
}

/** Wires the gateway's adapters together. The only place that constructs them. */
export async function startGateway(config: GatewayConfig, log?: Logger): Promise<RunningGateway> {
  const logger =
    log ??
    pino({ level: config.log.level, base: { app: 'iot-gateway', gatewayId: config.gatewayId } });
  const outbox = new SqliteOutbox({
    ...config.outbox,
    maxUnauthenticatedQuarantineRows: config.mqtt.unauthenticated.maxQuarantineRows,
  });
  if (outbox.recovered) {
    logger.error(
      outbox.recovered,
      'outbox file was corrupt: moved aside, continuing with a fresh outbox',
    );
  }
  logger.info({ path: config.outbox.path, backlog: outbox.stats().backlogRows }, 'outbox open');
  const brokers = config.kafka.brokers;
  const uplink = brokers
    ? { name: 'Kafka', where: { brokers, topic: config.kafka.topic } }
    : { name: 'hub', where: { url: config.hub.url } };
  const sink = brokers
    ? new KafkaSink({
        ...config.kafka,
        brokers,
        gatewayId: config.gatewayId,
        site: config.site,
        log: logger.child({ module: 'kafka-sink' }),
      })
    : new HttpSink({
        ...config.hub,
        gatewayId: config.gatewayId,
        site: config.site,
        log: logger.child({ module: 'http-sink' }),
      });
  const forwarder = new Forwarder({
    outbox,
    sink,
    batchSize: config.kafka.batchSize,
    log: logger.child({ module: 'forwarder' }),
  });
  const sources = await startSources(config, outbox, () => forwarder.notify(), logger);

  let stopping = false;
  const stopSignal = new AbortController();
  let kafkaConnected = false;
  const kafkaReady = (async () => {
    // Keep accepting readings while Kafka is unreachable: they wait in the outbox.
    for (let attempt = 1; !kafkaConnected && !stopping; attempt += 1) {
      try {
        await sink.connect();
        kafkaConnected = true;
        logger.info(uplink.where, `${uplink.name} connected`);
        forwarder.start();
      } catch (err) {
        const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
        if (attempt === 1 || attempt % 10 === 0) {
          logger.warn(
            { err, attempt, retryInMs: delay, ...uplink.where },
            `${uplink.name} unreachable; buffering`,
          );
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          stopSignal.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
  })();

  const startedAt = Date.now();
  const snapshot = (): GatewaySnapshot => {
    const time = Date.now();
    const stats = outbox.stats();
    return {
      gatewayId: config.gatewayId,
      time,
      startedAt,
      kafka: { connected: kafkaConnected, lastError: forwarder.lastError ?? null },
      outbox: {
        ...stats,
        oldestAgeMs: stats.oldestReceivedAt === null ? null : time - stats.oldestReceivedAt,
        lastWriteError: outbox.lastWriteError ?? null,
        recoveredFrom: outbox.recovered ?? null,
      },
      sources: sources.counters(),
      forwarder: { ...forwarder.counters },
    };
  };
  const status = new StatusReporter({
    intervalMs: config.kafka.statusIntervalMs,
    snapshot,
    send: (record) => sink.sendStatus(config.gatewayId, record),
    log: logger.child({ module: 'status' }),
  });
  status.start();
  const http = buildGatewayHttp({
    snapshot,
    metrics: buildMetrics(snapshot),
    maxBacklogAgeMs: config.http.maxBacklogAgeMs,
    log: logger,
  });
  const httpUrl = await http.listen({ host: config.http.host, port: config.http.port });
  logger.info({ url: `${httpUrl}/health` }, 'health endpoint listening');

  return {
    mqttPort: sources.ports.mqtt,
    httpUrl,
    async stop() {
      stopping = true;
      stopSignal.abort();
      logger.info('stopping');
      await sources.stop();
      status.stop();
      await forwarder.stop();
      // A connection attempt in progress is bounded by kafkajs's own retries; don't wait longer.
      await Promise.race([kafkaReady, new Promise((r) => setTimeout(r, 2000))]);
      await sink.disconnect().catch(() => undefined);
      await http.close();
      outbox.close();
      logger.info('stopped');
    },
  };
}
