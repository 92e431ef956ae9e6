import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exchangeMs } from '@iot-stream/simulators';
import { BINS, spawnApp } from '../../../scripts/lib/app-process.ts';
import { PtyPair } from '../../support/pty.ts';
import type { BenchContext } from '../lib/args.ts';
import { spawnGateway } from '../lib/gateway-proc.ts';
import { createTopic, topicCount, waitForCount } from '../lib/kafka.ts';
import { CpuMeter, RssSampler, round, sleep } from '../lib/proc.ts';

export interface ModbusResult {
  devices: number;
  baud: number;
  pollIntervalMs: number;
  seconds: number;
  /** Polls/s the configuration asks for, and committed polls/s achieved. */
  askedPollsPerSec: number;
  pollsPerSec: number;
  /** Gateway /health: time with a request in flight / wall time. */
  busBusy: number;
  /** Requests x (request + answer bytes at 11 bits, + 2 x 3.5-character silences) / wall time. */
  busWire: number;
  requestsPerSec: number;
  failed: number;
  overruns: number;
  timeouts: number;
  /** Gateway CPU seconds / wall seconds, and its RSS. */
  cpuShare: number;
  maxRssMb: number;
  /** Every poll committed by the end reached Kafka. */
  committed: number;
  inKafka: number;
  /** The simulator's summary counters (requests, answers, crcErrors, unread, ...). */
  simulator: Record<string, unknown>;
}

interface BusHealth {
  requests: number;
  busyMs: number;
  devices: Record<
    string,
    { polls: number; failed: number; overruns: number; errors: Record<string, number> }
  >;
}

/** Bytes of one poll of a climate device: read 2 input registers from 1 (8), the answer (9). */
const REQUEST_BYTES = 8;
const ANSWER_BYTES = 9;
const WARMUP_MS = 5_000;

/**
 * 50 simulated climate devices (`iot-sim modbus`, one unit id each) on one RTU line, a socat
 * pty pair paced by the simulator at `baud`, polled by the real gateway every second; measured
 * over `seconds` after a warm-up: polls/s, bus utilisation (the gateway's busy time, and the
 * wire time the requests imply), gateway CPU and RSS; then every committed poll in Kafka.
 */
export async function modbusScenario(ctx: BenchContext): Promise<ModbusResult> {
  const { modbusDevices: devices, modbusBaud: baud, modbusMs } = ctx.options;
  const pollIntervalMs = 1000;
  const dir = join(ctx.dir, 'modbus');
  mkdirSync(dir, { recursive: true });
  ctx.log(
    `modbus: ${devices} devices on one RTU line (pty) at ${baud} baud, polled every ` +
      `${pollIntervalMs} ms, ${WARMUP_MS / 1000} s warm-up + ${modbusMs / 1000} s measured`,
  );
  const pty = await new PtyPair(dir).start();
  const simArgs = [
    'modbus',
    ...['--rtu', pty.device, '--baud', String(baud), '--devices', String(devices)],
    ...['--interval', String(pollIntervalMs), '--prefix', `${ctx.runId}-mb-`, '--quiet'],
  ];
  const printed = spawnSync(
    process.execPath,
    [BINS.sim, ...simArgs, '--print-config', '--gateway-serial', pty.gateway],
    { encoding: 'utf8' },
  );
  if (printed.status !== 0) throw new Error(`iot-sim --print-config: ${printed.stderr}`);
  const configFile = join(dir, 'gateway.yaml');
  writeFileSync(configFile, printed.stdout);
  const sim = spawnApp({
    name: 'iot-sim',
    bin: BINS.sim,
    args: simArgs,
    logFile: join(dir, 'iot-sim.log'),
  });
  const topic = `${ctx.runId}.modbus`;
  await createTopic(ctx.kafka.admin, topic);
  const gateway = await spawnGateway({
    name: 'gateway-modbus',
    brokers: ctx.kafka.brokers,
    topic,
    outboxPath: join(dir, 'outbox.sqlite'),
    dir: ctx.dir,
    ...ctx.launch,
    configFile,
  });
  try {
    const line = await gateway.app.waitFor((l) => l.msg === 'health endpoint listening', 60_000);
    const url = String(line.url);
    const bus = async (): Promise<BusHealth> => {
      const h = (await (await fetch(url)).json()) as {
        sources: Record<string, { modbus?: BusHealth }>;
      };
      const b = h.sources[`modbus:${pty.gateway}`]?.modbus;
      if (!b) throw new Error('the gateway reports no modbus bus');
      return b;
    };
    await sleep(WARMUP_MS);
    const before = await bus();
    const cpu = new CpuMeter({ gateway: gateway.pid });
    const rss = new RssSampler(gateway.pid, 250);
    const t0 = performance.now();
    await sleep(modbusMs);
    const after = await bus();
    const wallMs = performance.now() - t0;
    const used = cpu.stop();
    const memory = rss.stop();
    const sum = (b: BusHealth, f: (d: BusHealth['devices'][string]) => number) =>
      Object.values(b.devices).reduce((a, d) => a + f(d), 0);
    const delta = (f: (d: BusHealth['devices'][string]) => number) =>
      sum(after, f) - sum(before, f);
    const requests = after.requests - before.requests;
    const result: ModbusResult = {
      devices,
      baud,
      pollIntervalMs,
      seconds: round(wallMs / 1000, 1),
      askedPollsPerSec: (devices * 1000) / pollIntervalMs,
      pollsPerSec: round((delta((d) => d.polls) * 1000) / wallMs, 1),
      busBusy: round((after.busyMs - before.busyMs) / wallMs, 3),
      busWire: round((requests * exchangeMs(REQUEST_BYTES, ANSWER_BYTES, baud)) / wallMs, 3),
      requestsPerSec: round((requests * 1000) / wallMs, 1),
      failed: delta((d) => d.failed),
      overruns: delta((d) => d.overruns),
      timeouts: delta((d) => d.errors.timeout ?? 0),
      cpuShare: round((used.gateway ?? 0) / (wallMs / 1000), 3),
      maxRssMb: round(memory.maxRssMb, 1),
      committed: 0,
      inKafka: 0,
      simulator: {},
    };
    await sim.stop('SIGINT');
    const summary = sim.lines.find((l) => l.command === 'modbus');
    result.simulator = (summary?.transport as Record<string, unknown> | undefined) ?? {};
    await sleep(500);
    result.committed = sum(await bus(), (d) => d.polls);
    result.inKafka = (
      await waitForCount(ctx.kafka.admin, topic, result.committed, { timeoutMs: 30_000 }).catch(
        async () => ({ count: await topicCount(ctx.kafka.admin, topic) }),
      )
    ).count;
    ctx.log(
      `  ${result.pollsPerSec} of ${result.askedPollsPerSec} polls/s; bus busy ` +
        `${(result.busBusy * 100).toFixed(1)}% (gateway), ${(result.busWire * 100).toFixed(1)}% ` +
        `(wire time of ${result.requestsPerSec} requests/s); failed ${result.failed}, overruns ` +
        `${result.overruns}; gateway CPU ${(result.cpuShare * 100).toFixed(1)}%, max RSS ` +
        `${result.maxRssMb} MB; ${result.inKafka} of ${result.committed} polls in Kafka`,
    );
    return result;
  } finally {
    await gateway.stop();
    await sim.stop('SIGKILL');
    await pty.stop();
  }
}
