// The benchmark's baseline: a deliberately naive MQTT -> Kafka forwarder with no durability.
// It subscribes at QoS 1 to a plain broker (the broker acknowledges the devices on receipt),
// gathers what arrives within `gatherMs` into one kafkajs send with acks=-1, and does not wait
// for one send before starting the next. No outbox, no idempotence, no payload validation:
// whatever is in memory when it dies is lost. Same record format as the gateway.
// Protocol (IPC): receives a NaiveConfig, sends `ready` once subscribed, answers any later
// message with its `stats`, exits when the parent disconnects.
import {
  encodeRecord,
  RECORD_SCHEMA_VERSION,
  RECORD_VERSION_HEADER,
  type ReadingRecord,
} from '@iot-stream/contracts';
import { Kafka, logLevel, type Message } from 'kafkajs';
import mqtt from 'mqtt';
import type { NaiveConfig, NaiveStats } from './lib/messages.ts';

const MAX_BATCH = 5000;
const HEADERS = { [RECORD_VERSION_HEADER]: String(RECORD_SCHEMA_VERSION) };

async function run(config: NaiveConfig): Promise<void> {
  const stats: NaiveStats = { type: 'stats', received: 0, sent: 0, failed: 0, sends: 0 };
  const kafka = new Kafka({
    clientId: 'naive-forwarder',
    brokers: config.brokers,
    logLevel: logLevel.ERROR,
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();

  let batch: Message[] = [];
  let timer: NodeJS.Timeout | undefined;
  let gatewaySeq = 0;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const messages = batch;
    batch = [];
    stats.sends += 1;
    producer.send({ topic: config.topic, acks: -1, messages }).then(
      () => {
        stats.sent += messages.length;
      },
      (err: Error) => {
        stats.failed += messages.length;
        process.stderr.write(`naive-forwarder: send failed (records lost): ${err.message}\n`);
      },
    );
  };

  const client = mqtt.connect(config.mqttUrl, {
    clientId: `naive-forwarder-${process.pid}`,
    clean: true,
    reconnectPeriod: 500,
  });
  client.on('message', (topic, payload) => {
    stats.received += 1;
    const deviceId = topic.split('/')[2] ?? 'unknown';
    const doc = JSON.parse(payload.toString()) as Omit<ReadingRecord, 'v' | 'gatewayId'>;
    gatewaySeq += 1;
    const value = encodeRecord({
      v: RECORD_SCHEMA_VERSION,
      gatewayId: 'naive',
      gatewaySeq,
      deviceId,
      session: doc.session,
      seq: doc.seq,
      time: doc.time ?? Date.now(),
      receivedAt: Date.now(),
      metrics: doc.metrics,
    });
    batch.push({ key: deviceId, value, headers: HEADERS });
    if (batch.length >= MAX_BATCH) flush();
    else timer ??= setTimeout(flush, config.gatherMs);
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync('iot/v1/+/data', { qos: 1 });
  process.on('message', () => process.send?.(stats));
  process.send?.({ type: 'ready' });
}

process.once('message', (config: NaiveConfig) => {
  run(config).catch((err: unknown) => {
    process.stderr.write(`naive-forwarder: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
