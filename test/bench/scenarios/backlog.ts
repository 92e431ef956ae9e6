import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from '../../../scripts/services/free-ports.ts';
import type { BenchContext } from '../lib/args.ts';
import { idleNodeRss } from '../lib/baseline.ts';
import { spawnGateway } from '../lib/gateway-proc.ts';
import { createTopic, waitForCount } from '../lib/kafka.ts';
import { type PrefillResult, prefillOutbox } from '../lib/prefill.ts';
import { CpuMeter, RssSampler, readMemory, round, sleep } from '../lib/proc.ts';

export interface BacklogResult {
  /** Idle RSS (MB): bare node, the gateway (empty outbox). */
  idle: { nodeMb?: number; gatewayMb?: number };
  prefill: PrefillResult;
  /** Gateway holding the backlog, Kafka unreachable. */
  held: { outboxOpenMs: number; readyMs: number; rssMb: number; hwmMb: number; stopMs: number };
  /** Restart on the backlog with Kafka reachable, until it is drained. */
  restart: {
    outboxOpenMs: number;
    kafkaConnectedMs: number;
    firstSendMs: number;
    drainSeconds: number;
    /** Undefined when the whole backlog arrived between two polls. */
    drainPerSec: number | undefined;
    maxRssMb: number;
    hwmMb: number;
    cpuSeconds: number | undefined;
  };
}

export async function backlogScenario(ctx: BenchContext): Promise<BacklogResult> {
  const idle = await idleFigures(ctx);
  const rows = ctx.options.backlog;
  const outboxPath = join(ctx.dir, 'backlog', 'outbox.sqlite');
  mkdirSync(join(ctx.dir, 'backlog'), { recursive: true });
  ctx.log(`backlog: prefilling ${rows} readings through SqliteOutbox (synchronous=FULL)`);
  const prefill = await prefillOutbox(outboxPath, rows);
  ctx.log(`  ${prefill.rowsPerSec} rows/s, file ${prefill.fileMb} MB`);
  const base = { ...ctx.launch, brokers: ctx.kafka.brokers, outboxPath, dir: ctx.dir };

  ctx.log('backlog: gateway holding it with Kafka unreachable');
  const [deadPort] = await freePorts(1);
  const held = await spawnGateway({
    ...base,
    name: 'gateway-backlog-held',
    brokers: [`127.0.0.1:${deadPort}`],
    topic: `${ctx.runId}.unreachable`,
    profileDir: undefined,
  });
  let heldResult: BacklogResult['held'];
  try {
    const readyMs = await held.waitFor('health endpoint listening');
    const heldRss = new RssSampler(held.pid);
    await sleep(3_000);
    const memory = heldRss.stop();
    const stopStarted = Date.now();
    await held.stop();
    heldResult = {
      outboxOpenMs: await held.waitFor('outbox open'),
      readyMs,
      rssMb: round(memory.lastRssMb),
      hwmMb: round(memory.hwmMb),
      stopMs: Date.now() - stopStarted,
    };
  } finally {
    await held.stop();
  }
  ctx.log(`  RSS ${heldResult.rssMb} MB (peak ${heldResult.hwmMb} MB)`);

  ctx.log('backlog: restart with Kafka reachable, until drained');
  const topic = `${ctx.runId}.backlog`;
  await createTopic(ctx.kafka.admin, topic);
  const gateway = await spawnGateway({
    ...base,
    name: 'gateway-backlog-restart',
    topic,
  });
  const rss = new RssSampler(gateway.pid);
  const cpu = new CpuMeter({ gateway: gateway.pid });
  try {
    const progress = await waitForCount(ctx.kafka.admin, topic, rows, { timeoutMs: 900_000 });
    const memory = rss.stop();
    const drainSeconds = (progress.doneAt - progress.firstAt) / 1000;
    const restart = {
      outboxOpenMs: await gateway.waitFor('outbox open'),
      kafkaConnectedMs: await gateway.waitFor('Kafka connected'),
      firstSendMs: progress.firstAt - gateway.spawnedAt,
      drainSeconds: round(drainSeconds, 2),
      drainPerSec: drainSeconds > 0 ? Math.round(rows / drainSeconds) : undefined,
      maxRssMb: round(memory.maxRssMb),
      hwmMb: round(memory.hwmMb),
      cpuSeconds: cpu.stop().gateway,
    };
    ctx.log(`  first send after ${restart.firstSendMs} ms, ${restart.drainPerSec} rows/s`);
    return { idle, prefill, held: heldResult, restart };
  } finally {
    rss.stop();
    await gateway.stop();
  }
}

/** What an idle Node.js and the idle gateway (empty outbox) cost in RSS. */
async function idleFigures(ctx: BenchContext): Promise<BacklogResult['idle']> {
  ctx.log('idle RSS: node, gateway (empty outbox, Kafka reachable)');
  const keepAlive = 'setInterval(() => {}, 1000)';
  const nodeMb = await idleNodeRss(['-e', keepAlive]);
  const topic = `${ctx.runId}.idle`;
  await createTopic(ctx.kafka.admin, topic);
  const idleGateway = async (name: string) => {
    const gateway = await spawnGateway({
      name,
      brokers: ctx.kafka.brokers,
      topic,
      outboxPath: join(ctx.dir, name, 'outbox.sqlite'),
      dir: ctx.dir,
      nodeOptions: ctx.options.nodeOptions,
    });
    try {
      await gateway.waitFor('Kafka connected');
      await gateway.waitFor('health endpoint listening');
      await sleep(2_000);
      return readMemory(gateway.pid)?.rssMb;
    } finally {
      await gateway.stop();
    }
  };
  const gatewayMb = await idleGateway('gateway-idle');
  const idle = { nodeMb: nodeMb && round(nodeMb), gatewayMb: gatewayMb && round(gatewayMb) };
  ctx.log(`  ${JSON.stringify(idle)}`);
  return idle;
}
