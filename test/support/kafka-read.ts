import { CONTROL_HEADER, decodeRecord, type ReadingRecord } from '@iot-stream/contracts';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';

/** One record as a reader sees it, before any decoding. */
export interface RawRecord {
  partition: number;
  offset: number;
  key: string | undefined;
  headers: Record<string, string>;
  value: Buffer;
}

/**
 * Reads every record of a readings topic from the beginning up to its current end offsets, with
 * an independent consumer group. Anything but a valid reading keyed by its device id (an
 * undecodable record, a control record, another key) makes it throw: tests want to know.
 */
export async function readTopic(
  brokers: string[],
  topic: string,
  timeoutMs = 60_000,
  extra: Partial<KafkaConfig> = {},
): Promise<ReadingRecord[]> {
  return (await readRawTopic(brokers, topic, timeoutMs, extra)).map((r) => {
    // The readings topic holds readings only: each a valid record keyed by its device.
    const where = `${topic} ${r.partition}/${r.offset}`;
    if (r.headers[CONTROL_HEADER] !== undefined) throw new Error(`a control record in ${where}`);
    const decoded = decodeRecord(r.value);
    if (!decoded.ok) throw new Error(`undecodable record at ${where}: ${decoded.reason}`);
    if (r.key !== decoded.record.deviceId)
      throw new Error(`record at ${where} keyed ${r.key} not by its device`);
    return decoded.record;
  });
}

/** Every record of `topic` up to its current end offsets, as stored (partition, key, headers). */
export async function readRawTopic(
  brokers: string[],
  topic: string,
  timeoutMs = 60_000,
  extra: Partial<KafkaConfig> = {},
): Promise<RawRecord[]> {
  const kafka = new Kafka({
    brokers,
    clientId: 'test-reader',
    logLevel: logLevel.NOTHING,
    ...extra,
  });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.map((p) => [p.partition, Number(p.high)]));
  for (const [p, high] of remaining) if (high === 0) remaining.delete(p);
  const records: RawRecord[] = [];
  if (remaining.size === 0) return records;
  const consumer = kafka.consumer({
    groupId: `reader-${Date.now()}-${Math.random()}`,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`readTopic(${topic}): timed out with ${records.length} records`)),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(message.headers ?? {}))
              if (v !== undefined) headers[k] = v.toString();
            records.push({
              partition,
              offset: Number(message.offset),
              key: message.key?.toString(),
              headers,
              value: message.value ?? Buffer.alloc(0),
            });
            if (
              Number(message.offset) + 1 >=
              (remaining.get(partition) ?? Number.POSITIVE_INFINITY)
            ) {
              remaining.delete(partition);
              if (remaining.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** Key for "this exact reading of this device": device, session and per-session sequence. */
export const readingKey = (
  deviceId: string,
  session: number | undefined,
  seq: number | undefined,
) => `${deviceId}/${session ?? '-'}/${seq ?? '-'}`;
