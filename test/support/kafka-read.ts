import { CONTROL_HEADER, decodeRecord, type ReadingRecord } from '@iot-stream/contracts';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';

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
  const records: ReadingRecord[] = [];
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
            // The readings topic holds readings only: each a valid record keyed by its device.
            const where = `${topic} ${partition}/${message.offset}`;
            if (message.headers?.[CONTROL_HEADER] !== undefined)
              return reject(new Error(`a control record in ${where}`));
            const decoded = decodeRecord(message.value);
            if (!decoded.ok)
              return reject(new Error(`undecodable record at ${where}: ${decoded.reason}`));
            if (message.key?.toString() !== decoded.record.deviceId)
              return reject(new Error(`record at ${where} keyed ${message.key} not by its device`));
            records.push(decoded.record);
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
