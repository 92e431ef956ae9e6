import { randomBytes } from 'node:crypto';
import { CONTROL_HEADER, type GatewayStatusRecord } from '@iot-stream/contracts';
import { Partitioners } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { EpisodeEvent } from '../../hub/src/detect/engine-types.ts';
import { SourceGapError } from '../../hub/src/errors.ts';
import { KafkaOutputs } from '../../hub/src/kafka/outputs.ts';
import type { Checkpoint, SourceBatch } from '../../hub/src/ports.ts';
import { encodeJson } from '../../hub/src/state/json-sequence.ts';
import {
  adapters,
  CLIENTS,
  createTopic,
  deleteBefore,
  offsets,
  produceRaw,
  readAll,
} from './kafka-clients.ts';
import { fleetRecords, waitUntil } from './support.ts';

// One contract per Kafka port of the hub (hub/src/ports.ts), run against both clients' adapters
// (kafkajs: hub/src/kafka/, @platformatic/kafka: hub/src/kafka-platformatic/) on a real Kafka:
// the publisher and outputs, the checkpoint store, the reading source, the status source.

const brokers = inject('kafkaBrokers');
const run = randomBytes(4).toString('hex');
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
});

function episode(deviceId: string, i: number): EpisodeEvent {
  return {
    type: 'opened',
    episode: { id: `${deviceId}-${i}`, deviceId, metric: 'temperature' },
  } as unknown as EpisodeEvent;
}

describe.each(CLIENTS)('Kafka ports through %s', (client) => {
  const a = adapters(client, brokers);
  closers.push(() => a.publisher.disconnect());
  const name = (what: string) => `contract-${client}-${what}-${run}`;

  it('outputs: every record of concurrent sends is written once, keys on the Java partitions', async () => {
    await a.publisher.connect();
    const anomalies = name('anomalies');
    const dlq = name('dlq');
    await produceRaw(brokers, anomalies, 6, []);
    await produceRaw(brokers, dlq, 1, []);
    const outputs = new KafkaOutputs(a.publisher, { anomalies, deadLetter: dlq });
    // Twenty sends at once: the publisher keeps one in flight, none may be lost (kafkajs #1005).
    await Promise.all(
      Array.from({ length: 20 }, (_, s) =>
        outputs.episodes(Array.from({ length: 10 }, (_, i) => episode(`dev-${i}`, s))),
      ),
    );
    await outputs.deadLetters([
      {
        key: 'dev-x',
        value: Buffer.from([0xff, 0x00]),
        code: 'RECORD_INVALID',
        reason: 'not JSON',
        source: { topic: 'readings', partition: 2, offset: '7' },
      },
    ]);
    const written = await readAll(brokers, anomalies);
    expect(written.length).toBe(200);
    expect(new Set(written.map((w) => w.value)).size).toBe(200);
    // The partition of a key is the same whichever client wrote it (Java's murmur2 mapping).
    const partitionOf = new Map<string, number>();
    for (const w of written) {
      expect(partitionOf.get(w.key) ?? w.partition).toBe(w.partition);
      partitionOf.set(w.key, w.partition);
    }
    for (const [key, partition] of partitionOf) expect(partition).toBe(javaPartition(key, 6));
    const [dead] = await readAll(brokers, dlq);
    expect(dead?.headers).toMatchObject({
      'iot-error-code': 'RECORD_INVALID',
      'iot-source-partition': '2',
      'iot-source-offset': '7',
    });
  });

  it('checkpoints: the newest per partition, none where none was saved, readable by the other client', async () => {
    const topic = name('checkpoints');
    const store = a.checkpoints(topic, 'readings', name('group'));
    closers.push(() => store.close());
    await store.init(3);
    const cp = (offset: string): Checkpoint => ({ v: 1, offset, state: { n: offset } });
    await store.save(0, encodeJson(cp('5')));
    await store.save(0, encodeJson(cp('9')));
    await store.save(2, encodeJson(cp('3')));
    const loaded = await store.load([0, 1, 2]);
    expect(Object.fromEntries(loaded)).toEqual({ 0: cp('9'), 2: cp('3') });
    const other = adapters(client === 'kafkajs' ? 'platformatic' : 'kafkajs', brokers);
    const theirs = other.checkpoints(topic, 'readings', name('group'));
    closers.push(
      () => theirs.close(),
      () => other.publisher.disconnect(),
    );
    await theirs.init(3);
    expect(Object.fromEntries(await theirs.load([0, 1, 2]))).toEqual({ 0: cp('9'), 2: cp('3') });
  });

  it('checkpoints: one larger than the topic takes is refused as CHECKPOINT_TOO_LARGE, naming its partition and size; later ones still go', async () => {
    const topic = name('small-checkpoints');
    await createTopic(brokers, topic, 2, {
      'cleanup.policy': 'compact',
      'max.message.bytes': '20000',
    });
    const store = a.checkpoints(topic, 'readings', name('group'));
    closers.push(() => store.close());
    await store.init(2);
    // Random bytes do not compress: ~67 KB of JSON stays over 20,000 bytes after gzip.
    const big: Checkpoint = {
      v: 1,
      offset: '7',
      state: { noise: randomBytes(50_000).toString('base64') },
    };
    const refused = await store.save(1, encodeJson(big)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toMatchObject({ code: 'CHECKPOINT_TOO_LARGE' });
    expect((refused as Error).message).toMatch(
      /partition 1 \(0\.1 MB of JSON\).*max\.message\.bytes/,
    );
    const small: Checkpoint = { v: 1, offset: '8', state: { n: 8 } };
    await store.save(1, encodeJson(small)); // the producer goes on (it is the hub's one for every output)
    expect(Object.fromEntries(await store.load([0, 1]))).toEqual({ 1: small });
  });

  it('reading source: batches per partition, retried not skipped, committed as far as covered, gaps fetched again, rebalanced', async () => {
    const topic = name('readings');
    const groupId = name('source');
    const records = fleetRecords(6, 40);
    const messages = records.map((r, i) => ({
      partition: i % 3,
      key: r.deviceId,
      value: JSON.stringify(r),
    }));
    messages.push({ partition: 0, key: 'bad', value: 'not json' });
    messages.push({
      partition: 1,
      key: 'tick',
      value: '{}',
      headers: { [CONTROL_HEADER]: '1' },
    } as never);
    await produceRaw(brokers, topic, 3, messages);
    const batches: SourceBatch[] = [];
    let failedOnce = false;
    let gapOnce = false;
    const handle = async (b: SourceBatch) => {
      batches.push(b);
      if (process.env.CONTRACT_DEBUG && b.partition === 1)
        console.log(
          client,
          b.flush ? 'flush' : `${b.fetchedFrom} ${b.records[0]?.offset}..${b.lastOffset}`,
        );
      if (b.flush) return b.lastOffset;
      // Partition 2's first batch fails once: it must come again, whole.
      if (b.partition === 2 && !failedOnce) {
        failedOnce = true;
        throw new Error('store down');
      }
      // Partition 1, once past offset 20: the state says it needs 10 next (a skipped tail).
      if (b.partition === 1 && !gapOnce && BigInt(b.lastOffset) > 20n) {
        gapOnce = true;
        throw new SourceGapError(1, '10', b.fetchedFrom ?? '?');
      }
      // Partition 0 leaves its last offset uncheckpointed: committed only after a flush.
      return b.partition === 0 ? String(BigInt(b.lastOffset) - 1n) : b.lastOffset;
    };
    const assigned: number[][] = [];
    const source = a.source({ topic, groupId, flushAfterMs: 300 });
    closers.push(() => source.stop());
    await source.start(handle, (p) => assigned.push(p));
    await waitUntil('every offset committed', async () =>
      (await offsets(brokers, topic, groupId)).every((o) => o.committed === o.end),
    );
    expect(assigned[0]).toEqual([0, 1, 2]);
    const data = batches.filter((b) => !b.flush);
    for (const b of data) {
      expect(BigInt(b.fetchedFrom ?? '0')).toBeLessThanOrEqual(BigInt(first(b)));
      expect(BigInt(b.highWatermark)).toBeGreaterThan(BigInt(b.lastOffset));
    }
    // Every record reached the handler, in offset order within each partition's batches.
    const seen = new Set(data.flatMap((b) => b.records.map((r) => `${b.partition}/${r.offset}`)));
    expect(seen.size).toBe(records.length);
    const failed = data.find((b) => b.partition === 2) as SourceBatch;
    expect(data.filter((b) => b.partition === 2 && b.lastOffset === failed.lastOffset).length).toBe(
      2,
    );
    const gapAt = data.findIndex((b) => b.partition === 1 && BigInt(b.lastOffset) > 20n);
    const after = data.slice(gapAt + 1).find((b) => b.partition === 1) as SourceBatch;
    expect(BigInt(after.fetchedFrom ?? '-1')).toBeLessThanOrEqual(10n);
    expect(after.records.some((r) => r.offset === '10')).toBe(true);
    expect(batches.some((b) => b.flush && b.partition === 0)).toBe(true);
    const invalid = data.flatMap((b) => b.invalid);
    expect(invalid.map((i) => [i.code, String(i.value)])).toEqual([
      ['RECORD_NOT_JSON', 'not json'],
    ]);
    expect(source.counters.legacyControl).toBeGreaterThanOrEqual(1);
    expect(source.counters.writeFailures).toBe(1);

    // A second member: the partitions are shared, each side told in a new assignment.
    const second = a.source({ topic, groupId, flushAfterMs: 300 });
    closers.push(() => second.stop());
    const theirs: number[][] = [];
    await second.start(
      async (b) => b.lastOffset,
      (p) => theirs.push(p),
    );
    await waitUntil('a rebalance', async () => (theirs.at(-1)?.length ?? 0) > 0, 60_000);
    await waitUntil(
      'both sides told',
      async () => {
        const mine = assigned.at(-1) ?? [];
        const other = theirs.at(-1) ?? [];
        return mine.length + other.length === 3 && mine.length > 0;
      },
      60_000,
    );
    expect([...(assigned.at(-1) ?? []), ...(theirs.at(-1) ?? [])].sort()).toEqual([0, 1, 2]);
  });

  it('reading source: sent back to records gone from the topic, it comes back from the oldest one held, which retainedFrom names', async () => {
    const topic = name('retention');
    const groupId = name('retention-group');
    const records = fleetRecords(2, 15);
    await produceRaw(
      brokers,
      topic,
      1,
      records.map((r) => ({ partition: 0, key: r.deviceId, value: JSON.stringify(r) })),
    );
    await deleteBefore(brokers, topic, 0, '20'); // as retention would during a long outage
    const batches: SourceBatch[] = [];
    let sentBack = false;
    const source = a.source({ topic, groupId, flushAfterMs: 300 });
    closers.push(() => source.stop());
    await source.start(
      async (b) => {
        batches.push(b);
        if (b.flush) return b.lastOffset;
        if (!sentBack) {
          sentBack = true;
          throw new SourceGapError(0, '5', b.fetchedFrom ?? '?');
        }
        return b.lastOffset;
      },
      () => undefined,
    );
    await waitUntil('every offset committed', async () =>
      (await offsets(brokers, topic, groupId)).every((o) => o.committed === o.end),
    );
    const data = batches.filter((b) => !b.flush);
    expect(data.map((b) => b.fetchedFrom).slice(0, 2)).toEqual(['20', '20']);
    expect(data[1]?.records[0]?.offset).toBe('20');
    expect(await source.retainedFrom(0)).toBe('20');
  });

  it("reading source: a fetch's bytes over all partitions bound its batches (maxBytesPerFetch)", async () => {
    const topic = name('fetch-bytes');
    const records = fleetRecords(6, 20); // 120 records, ~250 bytes each, over 3 partitions
    // Small producer batches (a send each 12 records), so a fetch's limit can fall between them.
    await produceInSends(topic, records, 3, 12);
    const largest = async (perFetch?: number) => {
      const groupId = name(`fetch-bytes-group-${perFetch ?? 'default'}`);
      const sizes: number[] = [];
      const source = a.source({
        topic,
        groupId,
        flushAfterMs: 300,
        maxBytesPerPartition: 1_048_576,
        ...(perFetch ? { maxBytesPerFetch: perFetch } : {}),
      });
      closers.push(() => source.stop());
      await source.start(
        async (b) => {
          if (!b.flush) sizes.push(b.records.length);
          return b.lastOffset;
        },
        () => undefined,
      );
      await waitUntil('every offset committed', async () =>
        (await offsets(brokers, topic, groupId)).every((o) => o.committed === o.end),
      );
      await source.stop();
      expect(sizes.reduce((n, k) => n + k, 0)).toBeGreaterThanOrEqual(records.length);
      return Math.max(...sizes);
    };
    expect(await largest()).toBe(40); // a partition's records in one fetch
    expect(await largest(4096)).toBeLessThanOrEqual(24); // 4 KB a fetch (two queued: @platformatic)
  });

  it("reading source: a batch still in the handler holds back its own partition only, the next fetch's others go on", async () => {
    const topic = name('in-flight');
    const groupId = name('in-flight-group');
    const records = fleetRecords(4, 30); // 120 records, ~250 bytes each, over 2 partitions
    // Producer batches of 10 records a partition (~2.5 KB), one a partition a fetch (4 KB).
    const messages = await produceInSends(topic, records, 2, 20);
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => {
      release = r;
    });
    const handled: SourceBatch[] = [];
    let holding: 'not yet' | 'now' | 'done' = 'not yet';
    let otherWhileHeld = 0;
    const source = a.source({ topic, groupId, flushAfterMs: 300, maxBytesPerPartition: 4096 });
    closers.push(() => source.stop());
    await source.start(
      async (b) => {
        if (b.flush) return b.lastOffset;
        handled.push(b);
        // Partition 1's batch of a later fetch than partition 0's first one (the first fetch
        // brings the first of each): the held batch did not hold the fetch back.
        if (b.partition === 1 && holding === 'now' && first(b) !== '0') {
          otherWhileHeld += 1;
          release();
        }
        // Partition 0's first batch waits (as for a slow InfluxDB write) until then, or 4 s
        // (less than the group's session).
        if (b.partition === 0 && holding === 'not yet') {
          holding = 'now';
          await Promise.race([released, new Promise((r) => setTimeout(r, 4000))]);
          holding = 'done';
        }
        return b.lastOffset;
      },
      () => undefined,
    );
    await waitUntil('every offset committed', async () =>
      (await offsets(brokers, topic, groupId)).every((o) => o.committed === o.end),
    );
    expect(otherWhileHeld).toBe(1);
    // Still each partition's records once, in offset order, none skipped.
    for (const partition of [0, 1]) {
      const seen = handled
        .filter((b) => b.partition === partition)
        .flatMap((b) => b.records.map((r) => Number(r.offset)));
      const produced = messages.filter((m) => m.partition === partition).length;
      expect(seen).toEqual(Array.from({ length: produced }, (_, i) => i));
    }
  });

  it('status source: valid records written, the rest skipped, offsets committed after the write', async () => {
    const topic = name('status');
    const groupId = name('status-group');
    const status = (gatewayId: string): GatewayStatusRecord => ({
      kind: 'gateway-status',
      gatewayId,
      time: Date.now(),
    });
    await produceRaw(brokers, topic, 1, [
      { partition: 0, value: JSON.stringify(status('gw-1')) },
      { partition: 0, value: 'garbage' },
      { partition: 0, value: JSON.stringify(status('gw-2')) },
    ]);
    const written: GatewayStatusRecord[] = [];
    let failures = 1;
    const source = a.status({
      topic,
      groupId,
      write: async (records) => {
        if (failures-- > 0) throw new Error('influx down'); // retried, not dropped
        written.push(...records);
      },
    });
    closers.push(() => source.stop());
    await source.start();
    await waitUntil('committed', async () =>
      (await offsets(brokers, topic, groupId)).every((o) => o.committed === o.end),
    );
    expect(written.map((r) => r.gatewayId).sort()).toEqual(['gw-1', 'gw-2']);
  });
});

/** Records spread over `partitions` in turn, produced `perSend` at a time (small batches). */
async function produceInSends(
  topic: string,
  records: ReturnType<typeof fleetRecords>,
  partitions: number,
  perSend: number,
) {
  const messages = records.map((r, i) => ({
    partition: i % partitions,
    key: r.deviceId,
    value: JSON.stringify(r),
  }));
  for (let i = 0; i < messages.length; i += perSend)
    await produceRaw(brokers, topic, partitions, messages.slice(i, i + perSend));
  return messages;
}

function first(b: SourceBatch): string {
  return b.records[0]?.offset ?? b.invalid[0]?.offset ?? b.lastOffset;
}

/** Where kafkajs's default partitioner (Java's murmur2 mapping) puts a key. */
function javaPartition(key: string, partitions: number): number {
  return Partitioners.DefaultPartitioner()({
    topic: 't',
    partitionMetadata: Array.from({ length: partitions }, (_, i) => ({
      partitionId: i,
      leader: 0,
      replicas: [0],
      isr: [0],
      partitionErrorCode: 0,
      offlineReplicas: [],
    })),
    message: { key, value: null },
  });
}
