import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { HubConfigSchema } from '../../hub/src/config.ts';
import { startHub } from '../../hub/src/main.ts';
import { fleetRecords, HUB_KAFKA_CLIENT, produce, waitUntil } from './support.ts';

// startHub (the package's API) joins its consumer groups while the REST API starts listening.
// When one of them fails, here the API's port is taken, the other must stop too: a rejected
// start that left its consumers in the group would hold partitions no one processes.

const brokers = inject('kafkaBrokers');
const influxUrl = inject('influxUrl');
const run = randomBytes(4).toString('hex');
const topic = `hub-listen-fail-${run}`;
const group = `listen-fail-${run}`;
const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
const taken = createServer();

afterAll(async () => {
  await admin.disconnect();
  await new Promise<void>((r) => taken.close(() => r()));
});

const members = async (groupId: string) =>
  (await admin.describeGroups([groupId])).groups[0]?.members.length ?? 0;

describe('startHub when the REST API cannot listen', () => {
  it('rejects with the listen error and leaves no consumer in either group', {
    timeout: 120_000,
  }, async () => {
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const { port } = taken.address() as AddressInfo;
    await produce(brokers, topic, fleetRecords(2, 20));
    await admin.connect();
    const config = Value.Default(HubConfigSchema, {
      kafka: {
        brokers,
        topic,
        groupId: group,
        statusTopic: `status-${run}`,
        deadLetterTopic: `dlq-${run}`,
        anomalyTopic: `anomalies-${run}`,
        client: HUB_KAFKA_CLIENT,
      },
      influx: { url: influxUrl, database: `hub_listen_fail_${run}` },
      http: { host: '127.0.0.1', port },
    }) as Parameters<typeof startHub>[0];
    const started = startHub(config, pino({ level: 'silent' }));
    await expect(started).rejects.toMatchObject({ code: 'EADDRINUSE' });
    // Both groups had been joined by then (the listen fails at once, the joins take a while,
    // and the start waits for both): each must be empty now, the members having left.
    await waitUntil(
      'both groups empty',
      async () => {
        const [readings, status] = [await members(group), await members(`${group}.gateway-status`)];
        return readings === 0 && status === 0;
      },
      20_000,
    );
    const described = await admin.describeGroups([group, `${group}.gateway-status`]);
    expect(described.groups.map((g) => g.state)).toEqual(['Empty', 'Empty']);
  });
});
