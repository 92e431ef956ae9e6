import { CONTROL_HEADER, decodeRecord, type ReadingRecord } from '@iot-stream/contracts';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';

/**
 * Reads every record of a topic from the beginning up to its current end offsets, with an
 * independent consumer group. Undecodable records make it throw: tests want to know. Control
 * records (a hub's ticks) are skipped.
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
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`readTopic(${topic}): timed out with ${records.length} records`)),
      timeoutMs,
    );
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          const control = message.headers?.[CONTROL_HEADER] !== undefined; // a hub's tick
          const decoded = decodeRecord(message.value);
          if (!decoded.ok && !control)
            throw new Error(
              `undecodable record at ${partition}/${message.offset}: ${decoded.reason}`,
            );
          if (decoded.ok) records.push(decoded.record);
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
  await consumer.disconnect();
  return records;
}

/** Key for "this exact reading of this device": device, session and per-session sequence. */
export const readingKey = (
  deviceId: string,
  session: number | undefined,
  seq: number | undefined,
) => `${deviceId}/${session ?? '-'}/${seq ?? '-'}`;
