import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { HubConfigSchema } from '../../hub/src/config.ts';
import { startHub } from '../../hub/src/main.ts';
import { HUB_KAFKA_CLIENT } from './support.ts';

// A checkpoint topic with fewer partitions than the readings topic is refused for good at
// start-up (the checkpoint of readings partition p goes to its partition p). startHub (the
// package's API) must then reject with that reason and leave nothing of its own connected to
// Kafka: before, the producer it had connected stayed, and a library user's process with it.

const brokers = inject('kafkaBrokers');
const influxUrl = inject('influxUrl');
const run = randomBytes(4).toString('hex');
const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();

afterAll(() => admin.disconnect());

/** This process's open sockets to the brokers. */
function brokerSockets(): number {
  const ports = new Set(brokers.map((b) => Number(b.split(':').pop())));
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter(
    (h) =>
      typeof (h as Socket).remotePort === 'number' &&
      !(h as Socket).destroyed &&
      ports.has((h as Socket).remotePort as number),
  ).length;
}

describe('startHub with a checkpoint topic of too few partitions', () => {
  it('rejects saying so, and leaves no connection of its own to Kafka', {
    timeout: 120_000,
  }, async () => {
    const topic = `hub-cp-refused-${run}`;
    const checkpointTopic = `hub-cp-refused-${run}.checkpoints`;
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic, numPartitions: 3 },
        { topic: checkpointTopic, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
    const config = Value.Default(HubConfigSchema, {
      kafka: {
        brokers,
        topic,
        checkpointTopic,
        groupId: `cp-refused-${run}`,
        statusTopic: `status-${run}`,
        deadLetterTopic: `dlq-${run}`,
        anomalyTopic: `anomalies-${run}`,
        client: HUB_KAFKA_CLIENT,
      },
      influx: { url: influxUrl, database: `hub_cp_refused_${run}` },
      http: { host: '127.0.0.1', port: 0 },
    }) as Parameters<typeof startHub>[0];
    const before = brokerSockets(); // the test's own admin
    await expect(startHub(config, pino({ level: 'silent' }))).rejects.toThrow(
      `checkpoint topic ${checkpointTopic} has 1 partitions, the readings topic 3`,
    );
    await new Promise((r) => setTimeout(r, 500)); // sockets closing
    expect(brokerSockets()).toBe(before);
  });
});
