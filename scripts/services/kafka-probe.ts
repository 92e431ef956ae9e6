import { Kafka, logLevel } from 'kafkajs';

/**
 * Ids of the brokers the cluster reports as registered (one `describeCluster` with a fresh,
 * silent admin client and no retries). Throws when no broker answers within `timeoutMs`.
 */
export async function describeBrokers(brokers: string[], timeoutMs = 3_000): Promise<number[]> {
  const kafka = new Kafka({
    clientId: 'harness-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 1_000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const cluster = await Promise.race([
      admin.connect().then(() => admin.describeCluster()),
      timeout,
    ]);
    return cluster.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => {});
  }
}
