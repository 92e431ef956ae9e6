import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from '../lib/args.ts';
import { spawnGateway } from '../lib/gateway-proc.ts';
import { createTopic, waitForCount } from '../lib/kafka.ts';
import { startMosquitto } from '../lib/mosquitto.ts';
import { CpuMeter, RssSampler, round } from '../lib/proc.ts';
import { ensureTelegraf, mqttToKafkaConfig, startTelegraf } from '../lib/telegraf.ts';

/** One MQTT -> Kafka path, as the publishers see it. */
export interface PeerResult {
  path: PeerPath;
  /** The gateway's Kafka client (`kafka.client`); Telegraf's paths have none. */
  client?: GatewayKafkaClient;
  readings: number;
  readingsPerSec: number;
  /** CPU seconds per 100k readings of the processes that do the forwarding (broker included). */
  cpuPer100k: number;
  /** ...of the forwarder alone (Telegraf, the gateway). */
  forwarderCpuPer100k: number;
  cpu: Record<string, number>;
  /** Peak RSS (VmHWM) of the forwarder, MB. */
  peakRssMb: number;
}

export type PeerPath =
  | 'telegraf-memory'
  | 'telegraf-disk'
  | 'gateway-external'
  | 'gateway-embedded';

export type GatewayKafkaClient = 'kafkajs' | 'platformatic';

/** One path of the table: a gateway path once per client asked for (--kafka-clients). */
interface PeerRun {
  path: PeerPath;
  client?: GatewayKafkaClient;
}

/** How the table names a run: the path, and the client when it is not kafkajs (the default). */
export function peerLabel(r: { path: PeerPath; client?: GatewayKafkaClient | undefined }): string {
  return r.client === 'platformatic'
    ? `${PEER_LABELS[r.path]}, @platformatic/kafka`
    : PEER_LABELS[r.path];
}

export const PEER_LABELS: Record<PeerPath, string> = {
  'telegraf-memory': 'Telegraf, memory buffer (+ Mosquitto)',
  'telegraf-disk': 'Telegraf, disk buffer (durable; + Mosquitto)',
  'gateway-external': 'iot-gateway, external Mosquitto (durable)',
  'gateway-embedded': 'iot-gateway, embedded broker (durable)',
};

interface Running {
  mqttUrl: string;
  pids: Record<string, number | undefined>;
  forwarder: string;
  stop(): Promise<void>;
}

/**
 * The side-by-side table in one sitting: the same publishers (Debian's
 * `mosquitto_pub -l -q 1`, one process per device, the documented JSON) into Telegraf and
 * into the gateway, both forwarding to the same Kafka.
 */
export async function peerScenarios(ctx: BenchContext): Promise<PeerResult[]> {
  const telegraf = await ensureTelegraf(ctx.log);
  const { publishers, peerReadings: total } = ctx.options;
  const perPublisher = Math.floor(total / publishers);
  if (perPublisher > 65_536) throw new Error('--peer-readings: at most 65,536 per publisher');
  const files = writePayloads(ctx, publishers, perPublisher);
  const results: PeerResult[] = [];
  // Each gateway path once per client, one after the other, so both meet the same machine.
  const gatewayRuns = (path: PeerPath): PeerRun[] =>
    ctx.options.kafkaClients.map((client) => ({ path, client }));
  const runs: PeerRun[] = [
    { path: 'telegraf-memory' },
    { path: 'telegraf-disk' },
    ...gatewayRuns('gateway-external'),
    ...gatewayRuns('gateway-embedded'),
  ];
  for (const { path, client } of runs) {
    const name = client ? `${path}-${client}` : path;
    const topic = `${ctx.runId}.peers-${name}`;
    await createTopic(ctx.kafka.admin, topic);
    ctx.log(
      `peers (${name}): ${publishers} x mosquitto_pub -l -q 1, ${perPublisher} readings each`,
    );
    const running = await startPath(ctx, { path, ...(client ? { client } : {}) }, topic, telegraf);
    try {
      const rss = new RssSampler(running.pids[running.forwarder] as number);
      const cpu = new CpuMeter(running.pids);
      const startedAt = Date.now();
      const publishing = publish(ctx, running.mqttUrl, files, path);
      const done = await waitForCount(ctx.kafka.admin, topic, perPublisher * publishers, {
        timeoutMs: 900_000,
      });
      await publishing;
      const used = cpu.stop();
      const memory = rss.stop();
      const readings = perPublisher * publishers;
      const per100k = (names: string[]) =>
        round((names.reduce((s, n) => s + (used[n] ?? 0), 0) * 100_000) / readings, 2);
      const result: PeerResult = {
        path,
        ...(client ? { client } : {}),
        readings,
        readingsPerSec: Math.round(readings / ((done.doneAt - startedAt) / 1000)),
        cpuPer100k: per100k(Object.keys(running.pids)),
        forwarderCpuPer100k: per100k([running.forwarder]),
        cpu: used,
        peakRssMb: round(memory.hwmMb),
      };
      ctx.log(
        `  ${result.readingsPerSec} readings/s, ${result.cpuPer100k} CPU s/100k ` +
          `(${JSON.stringify(used)}), peak RSS ${result.peakRssMb} MB`,
      );
      results.push(result);
    } finally {
      await running.stop();
    }
  }
  return results;
}

function writePayloads(ctx: BenchContext, publishers: number, each: number): string[] {
  const dir = join(ctx.dir, 'peer-payloads');
  mkdirSync(dir, { recursive: true });
  const now = Date.now();
  return Array.from({ length: publishers }, (_, p) => {
    const lines: string[] = [];
    for (let seq = 0; seq < each; seq += 1) {
      const t = 20 + (seq % 100) / 10;
      lines.push(
        `{"session":${p + 1},"seq":${seq},"time":${now - each + seq},"metrics":` +
          `{"temperature":{"value":${t},"unit":"Cel"},"humidity":{"value":40.2,"unit":"%RH"}}}`,
      );
    }
    const file = join(dir, `dev-${p}.jsonl`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  });
}

/** Every publisher at once; resolves when all have exited. */
async function publish(ctx: BenchContext, url: string, files: string[], path: PeerPath) {
  const { hostname, port } = new URL(url);
  await Promise.all(
    files.map((file, i) => {
      const device = `${ctx.runId}-${path}-${i}`;
      const fd = openSync(file, 'r');
      const child = spawn(
        'mosquitto_pub',
        ['-h', hostname, '-p', port, '-q', '1', '-l', '-i', device, '-t', `iot/v1/${device}/data`],
        { stdio: [fd, 'ignore', 'pipe'] },
      );
      closeSync(fd);
      let err = '';
      child.stderr?.on('data', (b: Buffer) => {
        err += b.toString();
      });
      return new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`mosquitto_pub exited ${code}: ${err}`)),
        );
      });
    }),
  );
}

async function startPath(
  ctx: BenchContext,
  { path, client }: PeerRun,
  topic: string,
  telegrafBin: string,
): Promise<Running> {
  const name = client ? `${path}-${client}` : path;
  const dir = join(ctx.dir, `peers-${name}`);
  mkdirSync(dir, { recursive: true });
  const gatewayWith = (configFile?: string) =>
    spawnGateway({
      name: `gateway-${name}`,
      brokers: ctx.kafka.brokers,
      topic,
      outboxPath: join(dir, 'outbox.sqlite'),
      dir: ctx.dir,
      ...ctx.launch,
      ...(configFile ? { configFile } : {}),
      env: { GATEWAY_KAFKA_CLIENT: client ?? 'kafkajs' },
    });
  if (path === 'gateway-embedded') {
    const gateway = await gatewayWith();
    await gateway.waitFor('health endpoint listening');
    return {
      mqttUrl: gateway.mqttUrl,
      pids: { gateway: gateway.pid },
      forwarder: 'gateway',
      stop: async () => void (await gateway.stop()),
    };
  }
  const mosquitto = await startMosquitto(dir);
  try {
    if (path === 'gateway-external') {
      const config = join(dir, 'gateway.yaml');
      writeFileSync(
        config,
        `mqtt:\n  embedded: false\n  external:\n    url: ${mosquitto.url}\n    clientId: bench-${name}\n`,
      );
      const gateway = await gatewayWith(config);
      await gateway.waitFor('connected to external MQTT broker');
      await new Promise((r) => setTimeout(r, 200)); // its SUBSCRIBE in place
      return {
        mqttUrl: mosquitto.url,
        pids: { gateway: gateway.pid, mosquitto: mosquitto.pid },
        forwarder: 'gateway',
        stop: async () => {
          await gateway.stop();
          await mosquitto.stop();
        },
      };
    }
    const buffer = path === 'telegraf-disk' ? 'disk' : 'memory';
    const config = mqttToKafkaConfig({
      mqttUrl: mosquitto.url,
      brokers: ctx.kafka.brokers,
      topic,
      buffer,
      dir,
    });
    const telegraf = await startTelegraf(telegrafBin, config, dir, `telegraf-${buffer}`);
    await new Promise((r) => setTimeout(r, 500)); // its SUBSCRIBE in place
    return {
      mqttUrl: mosquitto.url,
      pids: { telegraf: telegraf.child.pid, mosquitto: mosquitto.pid },
      forwarder: 'telegraf',
      stop: async () => {
        await telegraf.stop();
        await mosquitto.stop();
      },
    };
  } catch (err) {
    await mosquitto.stop();
    throw err;
  }
}
