import { type Admin, Kafka, logLevel } from 'kafkajs';
import { waitUntil } from '../hub/support.ts';

/** Runs `use` with a connected admin client, disconnected afterwards. */
export async function withAdmin<T>(brokers: string[], use: (admin: Admin) => Promise<T>) {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * A readings topic as production runs it on three brokers: `partitions` partitions, 3 replicas,
 * acks=all needing 2 in sync; stamped with the broker's append time (what the pause
 * measurement reads). Resolves once every partition has a leader and all 3 replicas in sync.
 */
export function createReadingsTopic(brokers: string[], topic: string, partitions: number) {
  return withAdmin(brokers, async (admin) => {
    // waitForLeaders off: on 3 brokers kafkajs can ask one whose metadata lags (harness test).
    await admin.createTopics({
      waitForLeaders: false,
      topics: [
        {
          topic,
          numPartitions: partitions,
          replicationFactor: 3,
          configEntries: [
            { name: 'min.insync.replicas', value: '2' },
            { name: 'message.timestamp.type', value: 'LogAppendTime' },
          ],
        },
      ],
    });
    await waitUntil('every partition led, 3 replicas in sync', async () => {
      const [t] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      const ps = t?.partitions ?? [];
      return ps.length === partitions && ps.every((p) => p.leader > 0 && p.isr.length === 3);
    });
  });
}

/** Members of a stable group; -1 while it rebalances. */
export function stableMembers(brokers: string[], group: string): Promise<number> {
  return withAdmin(brokers, async (admin) => {
    const [g] = (await admin.describeGroups([group])).groups;
    return g?.state === 'Stable' ? g.members.length : -1;
  });
}

/** The node id of the broker leading `partition` of `topic`. */
export function leaderOf(brokers: string[], topic: string, partition: number): Promise<number> {
  return withAdmin(brokers, async (admin) => {
    const [t] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    const leader = t?.partitions.find((p) => p.partitionId === partition)?.leader;
    if (leader === undefined || leader < 1) throw new Error(`${topic}/${partition} has no leader`);
    return leader;
  });
}
