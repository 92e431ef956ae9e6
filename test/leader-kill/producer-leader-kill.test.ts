import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckCheck, IncompleteAckError } from '@iot-stream/contracts';
import { seededRandom } from '@iot-stream/simulators';
import {
  Producer as PlatformaticProducer,
  ProduceAcks,
  stringSerializers,
} from '@platformatic/kafka';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KafkaCluster, startKafka } from '../../scripts/services/kafka.ts';
import { createReadingsTopic } from '../scale/cluster-admin.ts';
import { compareDelivery, formatReport } from '../support/fault-report.ts';
import { kcatValues, killLeaders } from '../support/leader-kill.ts';

// A producer under a steady load of small keyed batches over 6 partitions (3 brokers, RF 3,
// min.insync.replicas 2, idempotent, one send in flight, acks from all in-sync replicas) while
// the leader of one partition is SIGKILLed and later restarted, FAULT_KILLS times. Afterwards
// kcat reads the whole topic: every record whose send() resolved must be there.
//
// Clients (LEADER_KILL_CLIENTS, comma-separated; default kafkajs-checked,platformatic, which
// must lose nothing; LEADER_KILL_CLIENTS=kafkajs reproduces the upstream bug and fails):
// - kafkajs: as test/scale/steady-load.ts: kafkajs 2.2.4 resolves some sends without writing
//   the messages of the killed leader's partitions (see contracts/src/kafka-ack-check.ts);
// - kafkajs-checked: the same producer, each send checked by the gateway's AckCheck; an
//   incomplete acknowledgement is resent with a new producer, as the gateway does;
// - platformatic: @platformatic/kafka's producer (idempotent, acks all).
const kills = Number(process.env.FAULT_KILLS ?? 4);
const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
const clients = (process.env.LEADER_KILL_CLIENTS ?? 'kafkajs-checked,platformatic')
  .split(',')
  .filter(Boolean);
const PARTITIONS = 6;
const DEVICES = 24;
const PER_CHUNK = 48;

const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-leaderkill-${run}-`));
let kafka: KafkaCluster | undefined;

beforeAll(async () => {
  kafka = await startKafka({ dir, nodes: 3, log: () => undefined });
});

afterAll(async () => {
  await kafka?.stop();
  if (process.env.LEADER_KILL_KEEP) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

interface TestMessage {
  key: string;
  value: string;
}

interface TestProducer {
  /**
   * Resolves when the client says every message is written; `unacknowledged`: the values its
   * own result left out (kafkajs only: partitions missing from send()'s RecordMetadata).
   */
  send(topic: string, messages: TestMessage[]): Promise<{ unacknowledged: string[] }>;
  close(): Promise<void>;
}

function kafkajsProducer(brokers: string[], checked: boolean): TestProducer {
  const kafka = new Kafka({
    brokers,
    clientId: 'leader-kill',
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  const ackCheck = new AckCheck();
  const create = () =>
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: ackCheck.createPartitioner,
    });
  let producer: Producer = create();
  let connected: Promise<void> | undefined;
  return {
    async send(topic, messages) {
      connected ??= producer.connect();
      await connected;
      const send = () => producer.send({ topic, acks: -1, messages });
      if (!checked) {
        const { missing } = await ackCheck.observe(topic, send);
        return { unacknowledged: missing.messages.map((m) => String(m.value)) };
      }
      try {
        await ackCheck.check(topic, send);
        return { unacknowledged: [] };
      } catch (err) {
        if (err instanceof IncompleteAckError) {
          // As the gateway's KafkaSink: a new producer (id) for the resend.
          const old = producer;
          producer = create();
          connected = undefined;
          await old.disconnect().catch(() => undefined);
        }
        throw err;
      }
    },
    close: () => producer.disconnect(),
  };
}

function platformaticProducer(brokers: string[]): TestProducer {
  const producer = new PlatformaticProducer({
    clientId: 'leader-kill-platformatic',
    bootstrapBrokers: brokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    serializers: stringSerializers,
    retries: 8,
    retryDelay: 500,
  });
  return {
    async send(topic, messages) {
      await producer.send({ messages: messages.map((m) => ({ topic, ...m })) });
      return { unacknowledged: [] };
    },
    close: () => producer.close(),
  };
}

describe.each(clients)('producer %s, partition leaders SIGKILLed under load', (client) => {
  it(`keeps every acknowledged record over ${kills} leader kills`, {
    timeout: 120_000 + kills * 30_000,
  }, async () => {
    const cluster = kafka as KafkaCluster;
    const topic = `leaderkill-${client}-${run}`;
    await createReadingsTopic(cluster.brokers, topic, PARTITIONS);
    const producer =
      client === 'platformatic'
        ? platformaticProducer(cluster.brokers)
        : kafkajsProducer(cluster.brokers, client === 'kafkajs-checked');

    const acked = new Set<string>();
    let sends = 0;
    let resends = 0;
    let incompleteSends = 0;
    const unacknowledged = new Set<string>();
    let stop = false;
    const load = (async () => {
      for (let chunk = 0; !stop; chunk += 1) {
        const messages = Array.from({ length: PER_CHUNK }, (_, i) => ({
          key: `dev-${(chunk * 7 + i) % DEVICES}`,
          value: `${chunk}/${i}`,
        }));
        for (;;) {
          try {
            const outcome = await producer.send(topic, messages);
            if (outcome.unacknowledged.length > 0) {
              incompleteSends += 1;
              for (const v of outcome.unacknowledged) unacknowledged.add(v);
            }
            break;
          } catch {
            resends += 1; // an unknown outcome: sent again, at least once
            await new Promise((r) => setTimeout(r, 200));
          }
        }
        sends += 1;
        for (const m of messages) acked.add(m.value);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    const killed = await killLeaders({
      kafka: cluster,
      topic,
      partitions: Array.from({ length: PARTITIONS }, (_, i) => i),
      kills,
      random: seededRandom(seed),
      log: (line) => console.log(`${client}: ${line}`),
    }).finally(() => {
      stop = true;
    });
    await load;
    await producer.close();

    const values = await kcatValues(cluster.brokers, topic);
    const report = { seed, faults: killed.length, ...compareDelivery(acked, values) };
    // Which lost records had been left out of their send's own result (kafkajs #1303)?
    const present = new Set(values);
    const lost = [...acked].filter((v) => !present.has(v));
    const unexplained = lost.filter((v) => !unacknowledged.has(v)).length;
    console.log(
      `${formatReport(`producer ${client}, leader SIGKILL`, report)} sends=${sends} resends=${resends} incompleteSends=${incompleteSends} missingFromSendResults=${unacknowledged.size} lostNotMissingFromResults=${unexplained}` +
        (lost.length > 0 ? ` firstLost=${lost.slice(0, 3).join(',')}` : ''),
    );
    expect(report.acked).toBeGreaterThan(kills * 1000);
    expect(report.lost, `seed ${seed}`).toBe(0);
  });
});
