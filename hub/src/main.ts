import { ensureTopic } from '@iot-stream/contracts';
import { Kafka, logLevel } from 'kafkajs';
import pino, { type Logger } from 'pino';
import { buildApi } from './api.ts';
import type { HubConfig } from './config.ts';
import { InfluxStore } from './influx-store.ts';
import { KafkaReadingSource } from './kafka-source.ts';

export interface RunningHub {
  url: string;
  stop(): Promise<void>;
}

/** Wires the hub's adapters together. The only place that constructs them. */
export async function startHub(config: HubConfig, log?: Logger): Promise<RunningHub> {
  const logger = log ?? pino({ level: config.log.level, base: { app: 'iot-hub' } });
  const store = new InfluxStore(config.influx);
  await retry(() => store.init(), 'InfluxDB', logger);
  logger.info({ url: config.influx.url, database: config.influx.database }, 'InfluxDB ready');

  await retry(
    async () => {
      const admin = new Kafka({
        brokers: [...config.kafka.brokers],
        logLevel: logLevel.NOTHING,
      }).admin();
      await admin.connect();
      try {
        await ensureTopic(admin, config.kafka.topic, 6, logger);
        await ensureTopic(admin, config.kafka.deadLetterTopic, 1, logger);
      } finally {
        await admin.disconnect();
      }
    },
    'Kafka',
    logger,
  );

  const source = new KafkaReadingSource({
    ...config.kafka,
    log: logger.child({ module: 'kafka-source' }),
  });
  await source.start((records) => store.write(records));
  logger.info({ topic: config.kafka.topic, groupId: config.kafka.groupId }, 'consuming');

  const api = buildApi({
    store,
    log: logger,
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
        pipeline: source.counters,
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
      await source.stop();
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
