import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../../../scripts/lib/app-process.ts';
import type { SpawnGatewayOptions } from './gateway-proc.ts';
import type { BenchKafka } from './kafka.ts';

export const HELP = `Gateway benchmark: MQTT QoS 1 devices -> gateway (durable SQLite outbox) -> Kafka,
side by side with a naive non-durable forwarder (mosquitto + MQTT subscriber -> kafkajs).

Usage: npx tsx test/bench/gateway.ts [options]

Options:
  --readings N           readings per throughput run (default 200000; --quick 20000)
  --devices N            MQTT devices publishing at QoS 1 (default 20)
  --window N             publishes in flight per device (default 100)
  --client KIND          device MQTT client: raw (a minimal MQTT 3.1.1 publisher, default)
                         or mqttjs
  --rate N               readings/s in the latency runs (default 2000)
  --latency-s N          seconds per latency run (default 15; --quick 5)
  --backlog N            outbox backlog for the restart and RSS runs
                         (default 1000000; --quick 100000)
  --only LIST            comma-separated subset of: peers,throughput,latency,backlog,modbus
  --modbus-devices N     simulated Modbus devices on the RTU line, polled every second
                         (default 50)
  --modbus-baud N        the line's baud rate, as iot-sim paces it (default 19200)
  --modbus-s N           seconds measured, after a 5 s warm-up (default 30; --quick 10)
  --peer-readings N      readings per path in the peers runs (default 100000; --quick 20000)
  --publishers N         mosquitto_pub processes (devices) in the peers runs (default 10)
  --kafka-clients LIST   the gateway's Kafka clients in the peers runs, each gateway path
                         once per client (default kafkajs,platformatic)
  --node-options S       NODE_OPTIONS for the gateway (default: the systemd unit's,
                         deploy/systemd/iot-gateway.service)
  --gateway-config FILE  YAML config for every gateway (--config; the benchmark's
                         environment overrides still win)
  --profile DIR          write V8 CPU profiles of the gateway processes to DIR
  --quick                small sizes for a smoke test (well under 2 minutes)
  -h, --help             show this help

peers: the same publishers (Debian's mosquitto_pub -l -q 1) into Telegraf (memory and disk
buffer, behind Mosquitto) and into the gateway (external Mosquitto, embedded broker), all
forwarding to the same Kafka: readings/s, CPU s per 100k readings, peak RSS and the ratios.
Telegraf is built once from the Go module proxy and cached (TELEGRAF_BIN: use another).

modbus: iot-sim modbus as --modbus-devices climate devices (one unit id each) on a socat pty
pair at --modbus-baud, the gateway configured by iot-sim --print-config: polls/s achieved vs
asked, bus utilisation (the gateway's /health busy time, and the wire time the requests imply
at 11 bits a character), failed polls, gateway CPU and RSS, committed polls found in Kafka.

Uses KAFKA_BROKERS when set, otherwise starts a single-node Kafka 3.9.1 through the test
harness and stops it at the end. Every scenario uses its own fresh topic. Prints a table and
a final line \`RESULT {json}\`. Targets are goals, not assertions: the exit code is 0 unless
something crashed.
`;

export interface BenchOptions {
  readings: number;
  peerReadings: number;
  publishers: number;
  devices: number;
  window: number;
  client: 'raw' | 'mqttjs';
  rate: number;
  latencyMs: number;
  backlog: number;
  modbusDevices: number;
  modbusBaud: number;
  modbusMs: number;
  only: Set<string>;
  kafkaClients: ('kafkajs' | 'platformatic')[];
  profileDir: string | undefined;
  nodeOptions: string | undefined;
  gatewayConfig: string | undefined;
  quick: boolean;
}

/** What every scenario needs. */
export interface BenchContext {
  options: BenchOptions;
  kafka: BenchKafka;
  /** Scratch folder for outboxes, logs and configs (deleted at the end). */
  dir: string;
  /** Unique per run: topic names and device ids start with it. */
  runId: string;
  /** How every gateway process is started (entry point, NODE_OPTIONS, profiling). */
  launch: Pick<SpawnGatewayOptions, 'bin' | 'env' | 'nodeOptions' | 'profileDir' | 'configFile'>;
  log(message: string): void;
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      readings: { type: 'string' },
      'peer-readings': { type: 'string' },
      publishers: { type: 'string' },
      devices: { type: 'string' },
      window: { type: 'string' },
      client: { type: 'string' },
      rate: { type: 'string' },
      'latency-s': { type: 'string' },
      backlog: { type: 'string' },
      'modbus-devices': { type: 'string' },
      'modbus-baud': { type: 'string' },
      'modbus-s': { type: 'string' },
      only: { type: 'string' },
      'kafka-clients': { type: 'string' },
      profile: { type: 'string' },
      'node-options': { type: 'string' },
      'gateway-config': { type: 'string' },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const quick = values.quick === true;
  const int = (name: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const only = new Set((values.only ?? 'peers,throughput,latency,backlog,modbus').split(','));
  for (const s of only) {
    if (!['peers', 'throughput', 'latency', 'backlog', 'modbus'].includes(s))
      throw new Error(`--only: unknown ${s}`);
  }
  const kafkaClients = (values['kafka-clients'] ?? 'kafkajs,platformatic').split(',');
  for (const c of kafkaClients) {
    if (c !== 'kafkajs' && c !== 'platformatic')
      throw new Error(`--kafka-clients: unknown ${c} (kafkajs, platformatic)`);
  }
  const client = values.client ?? 'raw';
  if (client !== 'raw' && client !== 'mqttjs') throw new Error('--client must be raw or mqttjs');
  return {
    readings: int('readings', values.readings, quick ? 20_000 : 200_000),
    peerReadings: int('peer-readings', values['peer-readings'], quick ? 20_000 : 100_000),
    publishers: int('publishers', values.publishers, 10),
    devices: int('devices', values.devices, 20),
    window: int('window', values.window, 100),
    client,
    rate: int('rate', values.rate, 2_000),
    latencyMs: int('latency-s', values['latency-s'], quick ? 5 : 15) * 1000,
    backlog: int('backlog', values.backlog, quick ? 100_000 : 1_000_000),
    modbusDevices: int('modbus-devices', values['modbus-devices'], 50),
    modbusBaud: int('modbus-baud', values['modbus-baud'], 19_200),
    modbusMs: int('modbus-s', values['modbus-s'], quick ? 10 : 30) * 1000,
    only,
    kafkaClients: kafkaClients as BenchOptions['kafkaClients'],
    profileDir: values.profile,
    nodeOptions: values['node-options'] ?? unitNodeOptions(),
    gatewayConfig: values['gateway-config'],
    quick,
  };
}

/** The NODE_OPTIONS the systemd unit runs the gateway with: the benchmark measures that. */
function unitNodeOptions(): string | undefined {
  const unit = readFileSync(join(REPO_ROOT, 'deploy/systemd/iot-gateway.service'), 'utf8');
  return /^Environment=NODE_OPTIONS=(.*)$/m.exec(unit)?.[1]?.trim();
}
