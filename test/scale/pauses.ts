import { Kafka, logLevel } from 'kafkajs';

/** One record of a topic as the broker keeps it. */
export interface TopicEntry {
  partition: number;
  offset: number;
  /** The record's timestamp (the broker's append time on a LogAppendTime topic). */
  timestamp: number;
  value: Buffer | null;
}

/** Every record of `topic` up to its end offsets at the call, read with a throwaway group. */
export async function readEntries(
  brokers: string[],
  topic: string,
  timeoutMs = 60_000,
): Promise<TopicEntry[]> {
  const kafka = new Kafka({ brokers, clientId: 'scale-reader', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const left = new Map(ends.map((e) => [e.partition, Number(e.high)] as const));
  for (const e of ends) if (Number(e.high) <= Number(e.low)) left.delete(e.partition);
  const out: TopicEntry[] = [];
  if (left.size === 0) return out;
  const consumer = kafka.consumer({
    groupId: `scale-reader-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading ${topic}: ${out.length} records within ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = left.get(batch.partition);
            if (end === undefined) return;
            for (const m of batch.messages) {
              const offset = Number(m.offset);
              if (offset >= end) break;
              out.push({
                partition: batch.partition,
                offset,
                timestamp: Number(m.timestamp),
                value: m.value,
              });
              if (offset + 1 >= end) left.delete(batch.partition);
            }
            if (left.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** How long one reading waited from its append to the first checkpoint that covered it. */
export interface Wait {
  partition: number;
  appendedAt: number;
  coveredAt: number;
  waitMs: number;
}

/**
 * Per reading: the time from its append to the readings topic to the first checkpoint of its
 * partition whose offset covers it (the hub's `offset` field; by then its outputs are in
 * InfluxDB and a rebalance no longer needs it). Checkpoints are taken in the order the broker
 * appended them; a reading never covered makes this throw (a stuck partition).
 */
export function coverWaits(readings: TopicEntry[], checkpoints: TopicEntry[]): Wait[] {
  const byPartition = <T extends TopicEntry>(xs: T[]) => {
    const m = new Map<number, T[]>();
    for (const x of xs) {
      const list = m.get(x.partition) ?? [];
      list.push(x);
      m.set(x.partition, list);
    }
    for (const list of m.values()) list.sort((a, b) => a.offset - b.offset);
    return m;
  };
  const covers = byPartition(checkpoints);
  const waits: Wait[] = [];
  for (const [partition, list] of byPartition(readings)) {
    const cps = (covers.get(partition) ?? []).map((c) => ({
      at: c.timestamp,
      covered: Number((JSON.parse(String(c.value)) as { offset: string }).offset),
    }));
    let i = 0;
    let covered = -1;
    for (const r of list) {
      while (covered < r.offset && i < cps.length) {
        covered = Math.max(covered, cps[i]!.covered);
        i += 1;
      }
      if (covered < r.offset)
        throw new Error(`partition ${partition}: offset ${r.offset} never checkpointed`);
      const coveredAt = cps[i - 1]!.at;
      waits.push({
        partition,
        appendedAt: r.timestamp,
        coveredAt,
        waitMs: coveredAt - r.timestamp,
      });
    }
  }
  return waits;
}

export interface PauseEvent {
  name: string;
  at: number;
}

export interface Pause {
  name: string;
  /** The longest wait of a reading covered between this event and the next. */
  longestMs: number;
  partition: number;
  /** Partitions with a reading that waited more than 2 s in that span. */
  partitionsOver2s: number;
}

const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/**
 * The normal wait before the first event (from 2 s into the load), and the pause per event: the
 * longest wait of the readings covered after it and before the next event (a reading that waited
 * across an event was covered after it; the change a new hub causes comes when it joins, after
 * its start-up).
 */
export function pausesAround(
  waits: Wait[],
  events: PauseEvent[],
): { baseline: { p50: number; p99: number; max: number }; pauses: Pause[] } {
  let start = Number.POSITIVE_INFINITY;
  for (const w of waits) start = Math.min(start, w.appendedAt + 2000);
  const first = events[0]?.at ?? Number.POSITIVE_INFINITY;
  const steady = waits
    .filter((w) => w.appendedAt >= start && w.coveredAt < first)
    .map((w) => w.waitMs)
    .sort((a, b) => a - b);
  const pauses = events.map((e, k) => {
    const until = events[k + 1]?.at ?? Number.POSITIVE_INFINITY;
    const inSpan = waits.filter((w) => w.coveredAt >= e.at && w.coveredAt < until);
    const longest = inSpan.reduce<Wait | undefined>(
      (m, w) => (m === undefined || w.waitMs > m.waitMs ? w : m),
      undefined,
    );
    return {
      name: e.name,
      longestMs: longest?.waitMs ?? 0,
      partition: longest?.partition ?? -1,
      partitionsOver2s: new Set(inSpan.filter((w) => w.waitMs > 2000).map((w) => w.partition)).size,
    };
  });
  return {
    baseline: {
      p50: percentile(steady, 0.5),
      p99: percentile(steady, 0.99),
      max: steady.at(-1) ?? 0,
    },
    pauses,
  };
}
