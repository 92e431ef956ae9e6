import { fileURLToPath } from 'node:url';
import type { BenchContext } from './args.ts';
import { endChild, forkTs, nextMessage } from './children.ts';
import { spawnGateway } from './gateway-proc.ts';
import { createTopic } from './kafka.ts';
import type { NaiveConfig, NaiveStats } from './messages.ts';
import { startMosquitto } from './mosquitto.ts';

const NAIVE_FORWARDER = fileURLToPath(new URL('../naive-forwarder.ts', import.meta.url));

/** A running MQTT -> Kafka path the devices publish into. */
export interface Pipeline {
  name: 'durable' | 'naive';
  topic: string;
  mqttUrl: string;
  /** Processes whose CPU time counts (name -> pid). */
  pids: Record<string, number | undefined>;
  /** The forwarding process, for RSS. */
  forwarderPid: number;
  stop(): Promise<void>;
}

/** The real gateway with a fresh outbox (default config: synchronous=FULL). */
export async function startDurable(ctx: BenchContext, scenario: string): Promise<Pipeline> {
  const topic = `${ctx.runId}.${scenario}`;
  await createTopic(ctx.kafka.admin, topic);
  const gateway = await spawnGateway({
    name: `gateway-${scenario}`,
    brokers: ctx.kafka.brokers,
    topic,
    outboxPath: `${ctx.dir}/${scenario}/outbox.sqlite`,
    dir: ctx.dir,
    ...ctx.launch,
  });
  try {
    await gateway.waitFor('Kafka connected');
    await gateway.waitFor('health endpoint listening');
  } catch (err) {
    await gateway.stop();
    throw err;
  }
  return {
    name: 'durable',
    topic,
    mqttUrl: gateway.mqttUrl,
    pids: { gateway: gateway.pid, kafka: ctx.kafka.pids[0] },
    forwarderPid: gateway.pid,
    async stop() {
      const code = await gateway.stop();
      if (code !== 0) ctx.log(`gateway-${scenario} exited with code ${code}`);
    },
  };
}

/** mosquitto + test/bench/naive-forwarder.ts: QoS 1 subscribe -> kafkajs send, no durability. */
export async function startNaive(ctx: BenchContext, scenario: string): Promise<Pipeline> {
  const topic = `${ctx.runId}.${scenario}`;
  await createTopic(ctx.kafka.admin, topic);
  const mosquitto = await startMosquitto(ctx.dir);
  const child = forkTs(NAIVE_FORWARDER);
  try {
    const ready = nextMessage(child, 'ready', 60_000);
    const config: NaiveConfig = {
      type: 'config',
      mqttUrl: mosquitto.url,
      brokers: ctx.kafka.brokers,
      topic,
      gatherMs: 2,
    };
    child.send(config);
    await ready;
  } catch (err) {
    await endChild(child);
    await mosquitto.stop();
    throw err;
  }
  return {
    name: 'naive',
    topic,
    mqttUrl: mosquitto.url,
    pids: { forwarder: child.pid, mosquitto: mosquitto.pid, kafka: ctx.kafka.pids[0] },
    forwarderPid: child.pid as number,
    async stop() {
      const stats = nextMessage(child, 'stats', 5_000).catch(() => undefined);
      child.send({ type: 'stats' });
      const s: NaiveStats | undefined = await stats;
      if (s && s.failed > 0) ctx.log(`naive forwarder: ${s.failed} records failed (lost)`);
      await endChild(child);
      await mosquitto.stop();
    },
  };
}
