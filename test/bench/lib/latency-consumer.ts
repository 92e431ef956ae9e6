import type { Kafka } from 'kafkajs';

export interface LatencyConsumer {
  /** The device's `time` of each record (epoch ms), in arrival order. */
  times: number[];
  /** Receive time here minus the device's `time` (ms), one per record. */
  latencies: number[];
  /** Receive time here minus the record's `receivedAt` (when the gateway got it). */
  fromGateway: number[];
  stop(): Promise<void>;
}

/**
 * Reads a (fresh) topic from the beginning while it is written and records, for every record,
 * the time it arrived here minus the `time` the device put in the payload. Resolves once the
 * consumer has joined its group, so nothing published afterwards is missed.
 */
export async function startLatencyConsumer(kafka: Kafka, topic: string): Promise<LatencyConsumer> {
  const consumer = kafka.consumer({
    groupId: `${topic}.latency`,
    maxWaitTimeInMs: 100,
    minBytes: 1,
  });
  const times: number[] = [];
  const latencies: number[] = [];
  const fromGateway: number[] = [];
  await consumer.connect();
  const joined = new Promise<void>((resolve) => {
    consumer.on(consumer.events.GROUP_JOIN, () => resolve());
  });
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const message of batch.messages) {
        const record = JSON.parse(String(message.value)) as { time: number; receivedAt: number };
        times.push(record.time);
        latencies.push(now - record.time);
        fromGateway.push(now - record.receivedAt);
      }
    },
  });
  await joined;
  return {
    times,
    latencies,
    fromGateway,
    stop: () => consumer.disconnect(),
  };
}
