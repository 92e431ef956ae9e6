import { randomBytes } from 'node:crypto';
import {
  decodeRecord,
  type GatewayStatusRecord,
  type KafkaSecurity,
  KafkaSecuritySchema,
  RECORD_SCHEMA_VERSION,
  RECORD_VERSION_HEADER,
} from '@iot-stream/contracts';
import { Value } from '@sinclair/typebox/value';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import pino from 'pino';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { OutboxRow, Sink } from '../../gateway/src/ports.ts';
import { KafkaSink, type KafkaSinkOptions } from '../../gateway/src/uplink/kafka-sink.ts';
import { PlatformaticKafkaSink } from '../../gateway/src/uplink/platformatic/platformatic-sink.ts';
import { readRawTopic } from '../support/kafka-read.ts';

// The contract of the gateway's Kafka sink port, run against every adapter (STYLE.md: one
// suite per port, as MQTT.js's abstract_store): the same rows through kafkajs and through
// @platformatic/kafka must end up as the same records, on the same partitions, once each.
// Against the real Kafka the integration project starts (never mocked, never skipped).

const brokers = inject('kafkaBrokers');
const PARTITIONS = 4;
const DEVICES = 30;
const log = pino({ level: 'silent' });

const ADAPTERS: Record<string, (o: KafkaSinkOptions) => Sink> = {
  kafkajs: (o) => new KafkaSink(o),
  platformatic: (o) => new PlatformaticKafkaSink(o),
};

const open: Sink[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.disconnect().catch(() => undefined)));
});

function options(name: string, overrides: Partial<KafkaSinkOptions> = {}): KafkaSinkOptions {
  const run = `${name}-${randomBytes(4).toString('hex')}`;
  return {
    brokers,
    clientId: `contract-${run}`,
    topic: `contract-${run}`,
    statusTopic: `contract-status-${run}`,
    compression: 'gzip',
    gatewayId: 'gw-contract',
    site: 'lab',
    createTopic: true,
    topicPartitions: PARTITIONS,
    security: Value.Default(KafkaSecuritySchema, {}) as KafkaSecurity,
    log,
    ...overrides,
  };
}

function rows(from: number, count: number): OutboxRow[] {
  return Array.from({ length: count }, (_, i) => {
    const id = from + i;
    return {
      id,
      deviceId: `dev-${id % DEVICES}`,
      session: 7,
      seq: id % 65_536,
      time: 1_790_000_000_000 + id,
      receivedAt: 1_790_000_000_100 + id,
      metrics: { temp: { value: 20 + (id % 10) / 10, unit: 'C' } },
    };
  });
}

/** The partition Java's client (and kafkajs's DefaultPartitioner) gives `key`. */
function javaPartition(key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
  }));
  return Partitioners.DefaultPartitioner()({
    topic: 't',
    partitionMetadata,
    message: { key, value: '' },
  });
}

describe.each(Object.keys(ADAPTERS))('Kafka sink contract: %s', (name) => {
  const create = (o: KafkaSinkOptions) => {
    const sink = (ADAPTERS[name] as (o: KafkaSinkOptions) => Sink)(o);
    open.push(sink);
    return sink;
  };

  it('creates the topic and writes each row once, keyed by device on its Java partition', async () => {
    const o = options(name);
    const sink = create(o);
    await sink.connect();
    // One send at a time, as the forwarder: many batches must all arrive (kafkajs #1005).
    const BATCHES = 12;
    const PER_BATCH = 150;
    for (let b = 0; b < BATCHES; b += 1) await sink.send(rows(1 + b * PER_BATCH, PER_BATCH));

    const records = await readRawTopic(brokers, o.topic);
    expect(records).toHaveLength(BATCHES * PER_BATCH);
    const seqs = new Set<number>();
    for (const r of records) {
      const decoded = decodeRecord(r.value);
      if (!decoded.ok) throw new Error(decoded.reason);
      const { record } = decoded;
      seqs.add(record.gatewaySeq);
      expect(r.key).toBe(record.deviceId);
      expect(r.headers[RECORD_VERSION_HEADER]).toBe(String(RECORD_SCHEMA_VERSION));
      expect(record).toMatchObject({ gatewayId: 'gw-contract', site: 'lab', session: 7 });
      expect(r.partition, r.key).toBe(javaPartition(record.deviceId, PARTITIONS));
    }
    expect(seqs.size).toBe(BATCHES * PER_BATCH);
    expect(new Set(records.map((r) => r.partition)).size).toBe(PARTITIONS);
  });

  it('sends status records keyed by gateway id to the status topic', async () => {
    const o = options(name);
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: o.statusTopic, numPartitions: 1 }] });
    await admin.disconnect();
    const sink = create(o);
    await sink.connect();
    const status = {
      kind: 'gateway-status',
      v: 1,
      gatewayId: 'gw-contract',
      time: 1_790_000_000_000,
    } as GatewayStatusRecord;
    await sink.sendStatus('gw-contract', status);
    const [record] = await readRawTopic(brokers, o.statusTopic);
    expect(record?.key).toBe('gw-contract');
    expect(JSON.parse(String(record?.value))).toEqual(status);
  });

  it('rejects connect and send while Kafka is unreachable (the rows stay)', {
    timeout: 90_000,
  }, async () => {
    // A port nothing listens on: refused at once, so only the client's own bounded retries count.
    const sink = create(options(name, { brokers: ['127.0.0.1:1'] }));
    await expect(sink.connect()).rejects.toThrow();
    await expect(sink.send(rows(1, 3))).rejects.toThrow();
  });
});
