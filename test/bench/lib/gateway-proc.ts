import { join, resolve } from 'node:path';
import { type AppProcess, BINS, spawnApp } from '../../../scripts/lib/app-process.ts';
import { freePorts } from '../../../scripts/services/free-ports.ts';

export interface BenchGateway {
  app: AppProcess;
  pid: number;
  mqttUrl: string;
  /** Epoch ms of the spawn. */
  spawnedAt: number;
  /** Log message -> epoch ms when the benchmark first read it. */
  seen: Map<string, number>;
  /** Waits for a log message; returns ms since spawn. */
  waitFor(msg: string, timeoutMs?: number): Promise<number>;
  stop(): Promise<number | null>;
}

export interface SpawnGatewayOptions {
  name: string;
  brokers: string[];
  topic: string;
  outboxPath: string;
  /** Log file goes here. */
  dir: string;
  /** When set, the gateway writes a V8 CPU profile here on exit (`node --cpu-prof`). */
  profileDir?: string | undefined;
  /** A YAML config file (`--config`); the benchmark's environment overrides still win. */
  configFile?: string | undefined;
  /** NODE_OPTIONS for the gateway (heap flags and the like). */
  nodeOptions?: string | undefined;
  /** Another entry point than gateway/bin/iot-gateway.js (e.g. an installed package's bin). */
  bin?: string;
  env?: Record<string, string>;
}

/** The real gateway binary (`node gateway/bin/iot-gateway.js`, which loads tsx) as a child. */
export async function spawnGateway(options: SpawnGatewayOptions): Promise<BenchGateway> {
  const [mqttPort, httpPort] = await freePorts(2);
  const seen = new Map<string, number>();
  const spawnedAt = Date.now();
  const bin = options.bin ?? BINS.gateway;
  const args = ['--gateway-id', `bench-${options.name}`];
  if (options.configFile) args.push('--config', resolve(options.configFile));
  // spawnApp runs `node <bin> <args>`; --cpu-prof is not allowed in NODE_OPTIONS, so a
  // profiled gateway is `node --cpu-prof --cpu-prof-dir=DIR <bin> <args>`.
  const app = spawnApp({
    name: options.name,
    ...(options.profileDir
      ? { bin: '--cpu-prof', args: [`--cpu-prof-dir=${options.profileDir}`, bin, ...args] }
      : { bin, args }),
    env: {
      KAFKA_BROKERS: options.brokers.join(','),
      KAFKA_TOPIC: options.topic,
      OUTBOX_PATH: options.outboxPath,
      MQTT_PORT: String(mqttPort),
      GATEWAY_HTTP_PORT: String(httpPort),
      LOG_LEVEL: 'info',
      ...(options.nodeOptions ? { NODE_OPTIONS: options.nodeOptions } : {}),
      ...options.env,
    },
    logFile: join(options.dir, `${options.name}.log`),
    onLine: (line) => {
      if (typeof line.msg === 'string' && !seen.has(line.msg)) seen.set(line.msg, Date.now());
    },
    onText: (text) => process.stderr.write(`[${options.name}] ${text}\n`),
  });
  const pid = app.child.pid;
  if (pid === undefined) throw new Error(`${options.name}: spawn failed`);
  return {
    app,
    pid,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    spawnedAt,
    seen,
    async waitFor(msg, timeoutMs = 120_000) {
      await app.waitFor((l) => l.msg === msg, timeoutMs);
      return (seen.get(msg) ?? Date.now()) - spawnedAt;
    },
    stop: () => app.stop('SIGTERM', 20_000),
  };
}
