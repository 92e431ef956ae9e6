import type { TopicSpec } from '@iot-stream/contracts';
import { Admin } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { PlatformaticConnection } from './connection.ts';

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
    const seen = new Set(await admin.listTopics());
    // One request for the missing topics of each configuration (as contracts' ensureTopics):
    // each took its own round trip and wait before.
    const missing = new Map<string, TopicSpec[]>();
    for (const spec of specs) {
      if (seen.has(spec.topic)) continue; // there already, or named twice
      seen.add(spec.topic);
      const key = JSON.stringify(spec.configs ?? {});
      missing.set(key, [...(missing.get(key) ?? []), spec]);
    }
    for (const group of missing.values()) {
      try {
        await admin.createTopics({
          topics: group.map((spec) => ({ topic: spec.topic, partitions: spec.partitions })),
          configs: Object.entries(group[0]?.configs ?? {}).map(([name, value]) => ({
            name,
            value,
          })),
        });
        for (const spec of group)
          log.info({ topic: spec.topic, partitions: spec.partitions }, 'created Kafka topic');
      } catch (err) {
        const now = new Set(await admin.listTopics());
        if (!group.every((spec) => now.has(spec.topic))) throw err;
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
