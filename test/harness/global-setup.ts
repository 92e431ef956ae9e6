/**
 * Vitest global setup of the "integration" project: real Kafka + InfluxDB for every test file.
 * - KAFKA_BROKERS and INFLUX_URL both set (after `npm run services -- up`): use those servers.
 * - Otherwise: start single-node Kafka and InfluxDB here, stop them after the run.
 * Failing to start throws, so integration tests fail with the reason instead of skipping.
 */
import type { TestProject } from 'vitest/node';
import { ensureInfluxd } from '../../scripts/services/influx.ts';
import { ensureKafkaJars } from '../../scripts/services/kafka.ts';
import { stderrLog } from '../../scripts/services/process.ts';
import { startServices } from '../../scripts/services/services.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const brokers = process.env.KAFKA_BROKERS;
  const influxUrl = process.env.INFLUX_URL;
  if (brokers && influxUrl) {
    project.provide(
      'kafkaBrokers',
      brokers.split(',').map((b) => b.trim()),
    );
    project.provide('influxUrl', influxUrl);
    stderrLog(`[services] using running Kafka ${brokers} and InfluxDB ${influxUrl} (from env)`);
    return async () => {};
  }
  if (brokers || influxUrl) {
    stderrLog('[services] only one of KAFKA_BROKERS / INFLUX_URL is set: starting both here');
  }

  const started = Date.now();
  // Slow first-run work (Maven fetch, apt-get) reports progress; the rest stays quiet.
  await Promise.all([ensureKafkaJars(stderrLog), ensureInfluxd(stderrLog)]);
  const services = await startServices({ kafkaNodes: 1, log: () => {} });
  project.provide('kafkaBrokers', services.kafkaBrokers);
  project.provide('influxUrl', services.influxUrl);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  stderrLog(
    `[services] started Kafka ${services.kafkaBrokers.join(',')} (1 node) and InfluxDB ${services.influxUrl} in ${seconds}s`,
  );
  return async () => {
    await services.stop();
  };
}
