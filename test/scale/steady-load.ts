import type { ReadingRecord } from '@iot-stream/contracts';
import { AckCheck } from '@iot-stream/contracts';
import { Kafka, logLevel, type Producer } from 'kafkajs';

export interface SteadyLoadResult {
  /** Chunks sent (each once acknowledged with acks=all). */
  chunks: number;
  /** Sends that failed and were sent again (the same records: at least once, as a gateway). */
  resends: number;
  /** The longest a chunk took from its first send to its acknowledgement, resends included. */
  longestSendMs: number;
}

/**
 * Produces `records` in order, keyed by device, as a gateway fleet would: one chunk every
 * `everyMs`, spread evenly over `durationMs`, through one idempotent producer with one send in
 * flight (kafkajs #1005) and acks from all in-sync replicas, each acknowledgement checked to
 * cover every partition it sent to (AckCheck: kafkajs #1303). A send that fails (a broker killed
 * under it) or comes back incomplete is repeated, as the gateway does, through a new producer
 * (a new producer id: a resend with the old one may be refused for its sequence numbers). `onProgress` is told the fraction sent after
 * each chunk, so faults can be placed in the load.
 */
export async function produceSteadily(options: {
  brokers: string[];
  topic: string;
  records: readonly ReadingRecord[];
  durationMs: number;
  everyMs?: number;
  onProgress?: (fraction: number) => void;
}): Promise<SteadyLoadResult> {
  const everyMs = options.everyMs ?? 100;
  const chunkCount = Math.max(1, Math.round(options.durationMs / everyMs));
  const size = Math.ceil(options.records.length / chunkCount);
  const kafka = new Kafka({
    brokers: options.brokers,
    clientId: 'scale-load',
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  const ack = new AckCheck();
  const newProducer = async (): Promise<Producer> => {
    const p = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: ack.createPartitioner,
    });
    await p.connect();
    return p;
  };
  let producer = await newProducer();
  const result: SteadyLoadResult = { chunks: 0, resends: 0, longestSendMs: 0 };
  const started = Date.now();
  try {
    for (let i = 0; i * size < options.records.length; i += 1) {
      const due = started + i * everyMs;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      const messages = options.records.slice(i * size, (i + 1) * size).map((r) => ({
        key: r.deviceId,
        value: JSON.stringify(r),
        headers: { 'iot-record-version': '1' },
      }));
      const sent = Date.now();
      for (;;) {
        try {
          await ack.check(options.topic, () =>
            producer.send({ topic: options.topic, acks: -1, messages }),
          );
          break;
        } catch {
          result.resends += 1; // an unknown outcome: the hub deduplicates what arrives twice
          await producer.disconnect().catch(() => undefined);
          await new Promise((r) => setTimeout(r, 500));
          producer = await newProducer().catch(() => producer);
        }
      }
      result.chunks += 1;
      result.longestSendMs = Math.max(result.longestSendMs, Date.now() - sent);
      options.onProgress?.(Math.min(1, ((i + 1) * size) / options.records.length));
    }
  } finally {
    await producer.disconnect();
  }
  return result;
}
