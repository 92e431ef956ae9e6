import { spawn } from 'node:child_process';
import type { KafkaCluster } from '../../scripts/services/kafka.ts';
import { waitUntil } from '../hub/support.ts';
import { leaderOf, withAdmin } from '../scale/cluster-admin.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once every partition of `topic` has a leader and all 3 replicas in sync. */
export function waitAllInSync(brokers: string[], topic: string, timeoutMs = 90_000) {
  return withAdmin(brokers, (admin) =>
    waitUntil(
      `${topic}: every partition led, 3 replicas in sync`,
      async () => {
        const [t] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
        const ps = t?.partitions ?? [];
        return ps.length > 0 && ps.every((p) => p.leader > 0 && p.isr.length === 3);
      },
      timeoutMs,
    ),
  );
}

/**
 * While a load runs, `kills` times: after 1-2.5 s, SIGKILL the broker leading the next of
 * `partitions` (in turn) of `topic`, keep it down `downMs` (longer than broker.session.timeout.ms, so
 * leadership moves), restart it and wait until every replica is back in sync. Returns the node
 * ids killed, in order.
 */
export async function killLeaders(options: {
  kafka: KafkaCluster;
  topic: string;
  partitions: readonly number[];
  kills: number;
  random: () => number;
  downMs?: number;
  log?: (line: string) => void;
}): Promise<number[]> {
  const { kafka, topic } = options;
  const killed: number[] = [];
  for (let k = 0; k < options.kills; k += 1) {
    await sleep(1000 + Math.floor(options.random() * 1500));
    const partition = options.partitions[k % options.partitions.length] ?? 0;
    const leader = await leaderOf(kafka.brokers, topic, partition);
    options.log?.(`kill ${k + 1}: SIGKILL node ${leader}, leader of ${topic}/${partition}`);
    await kafka.stopNode(leader - 1, 'SIGKILL');
    killed.push(leader);
    await sleep(options.downMs ?? 5000);
    await kafka.startNode(leader - 1);
    await waitAllInSync(kafka.brokers, topic);
  }
  return killed;
}

/**
 * Every record value of `topic` from the beginning to the end of each partition, read by kcat
 * (librdkafka): a reader independent of the producers under test.
 */
export function kcatValues(brokers: string[], topic: string, timeoutMs = 120_000) {
  return new Promise<string[]>((resolve, reject) => {
    const child = spawn(
      'kcat',
      ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\\n'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`kcat exited ${code}: ${err.slice(-2000)}`));
      const text = Buffer.concat(out).toString();
      resolve(text.split('\n').filter((l) => l.length > 0));
    });
  });
}
