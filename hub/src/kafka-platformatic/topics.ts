import { Admin } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { PlatformaticConnection } from './connection.ts';

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Topic configuration (cleanup.policy, ...). */
  configs?: Record<string, string>;
}

/**
 * Creates the topics that do not exist yet (broker-default replication), waits until each
 * partition has a leader, and returns each topic's partition count (as contracts' ensureTopic
 * does with kafkajs's admin). A topic another hub created at the same moment is fine.
 */
export async function ensureTopics(
  connection: PlatformaticConnection,
  specs: readonly TopicSpec[],
  log: Logger,
): Promise<Map<string, number>> {
  const admin = new Admin(connection);
  try {
    const existing = new Set(await admin.listTopics());
    for (const spec of specs) {
      if (existing.has(spec.topic)) continue;
      try {
        await admin.createTopics({
          topics: [spec.topic],
          partitions: spec.partitions,
          configs: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
        });
        log.info({ topic: spec.topic, partitions: spec.partitions }, 'created Kafka topic');
      } catch (err) {
        if (!(await admin.listTopics()).includes(spec.topic)) throw err;
      }
    }
    const topics = specs.map((s) => s.topic);
    for (let attempt = 0; ; attempt += 1) {
      const metadata = await admin.metadata({ topics, forceUpdate: true });
      const led = topics.every((t) =>
        metadata.topics.get(t)?.partitions.every((p) => p !== undefined && p.leader >= 0),
      );
      if (led || attempt >= 50)
        return new Map(topics.map((t) => [t, metadata.topics.get(t)?.partitionsCount ?? 0]));
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.close();
  }
}
