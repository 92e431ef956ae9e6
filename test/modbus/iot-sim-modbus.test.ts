import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadingRecord } from '@iot-stream/contracts';
import {
  anomalyRulesFrom,
  buildDevices,
  type FleetConfig,
  type Label,
  registerMap,
  type Sample,
  SimDevice,
  servedValue,
} from '@iot-stream/simulators';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';
import { readTopic } from '../support/kafka-read.ts';
import { PtyPair } from '../support/pty.ts';

// The real gateway polls `iot-sim modbus` (the binary) over a socat pty pair (RTU, paced at
// 38400 baud) and over TCP, configured with the block `iot-sim modbus --print-config` prints.
// Every reading that reaches Kafka must carry exactly the values the simulator held for the
// sample it read (register 0, the sample counter, read in the same request), recomputed here
// by a twin of each simulated device from the same seed, injected anomalies included.

const brokers = inject('kafkaBrokers');
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-sim-modbus-${run}-`));
const topic = `sim-modbus-${run}`;
const pty = new PtyPair(dir);
const labelsFile = join(dir, 'truth.csv');
const SEED = 11;
const START = '2026-01-05T06:00:00Z';
const INTERVAL_MS = 400;
const PREFIX = `m${run}-`;
const PROFILES = ['climate', 'power', 'vibration'];
const SPIKES = 'spike:metrics=temperature|power|vibration_rms,every=1s';
let tcpPort = 0;
let httpUrl = '';
let sim: AppProcess | undefined;
let gateway: AppProcess | undefined;

const simArgs = () => [
  'modbus',
  ...['--rtu', pty.device, '--tcp', `127.0.0.1:${tcpPort}`, '--baud', '38400'],
  ...['--devices', '3', '--profile', PROFILES.join(','), '--prefix', PREFIX],
  ...['--seed', String(SEED), '--start', START, '--interval', String(INTERVAL_MS)],
  ...['--anomalies', SPIKES, '--labels', labelsFile, '--quiet'],
];

/** The devices again, in this process: the same seed gives the same samples. */
const fleet: FleetConfig = {
  seed: SEED,
  prefix: PREFIX,
  intervalMs: INTERVAL_MS,
  start: Date.parse(START),
  sites: [],
  groups: PROFILES.map((profile) => ({ profile, count: 1 })),
  behaviours: {},
  anomalies: anomalyRulesFrom(SPIKES),
};
const twins = new Map(
  buildDevices(fleet).map((spec) => {
    const device = new SimDevice(spec, {
      seed: SEED,
      start: fleet.start as number,
      anomalies: fleet.anomalies,
    });
    return [spec.id, { device, samples: [] as Sample[] }];
  }),
);
/** The n-th sample (1-based) a simulated device took. */
function nthSample(deviceId: string, n: number): Sample {
  const twin = twins.get(deviceId);
  if (!twin) throw new Error(`no simulated device ${deviceId}`);
  while (twin.samples.length < n) twin.samples.push(...twin.device.take().samples);
  return twin.samples[n - 1] as Sample;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const listening = (port: number) =>
  new Promise<true | undefined>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s.destroy() && true));
    s.once('error', () => resolve(undefined));
  });

interface Bus {
  rtu?: unknown;
  tcp?: unknown;
  devices: Array<{ deviceId: string; registers: Array<{ kind: string }> }>;
}

beforeAll(async () => {
  const [tcp, httpPort] = (await freePorts(2)) as [number, number];
  tcpPort = tcp;
  await pty.start();
  const printed = spawnSync(
    process.execPath,
    [BINS.sim, ...simArgs(), '--print-config', '--gateway-serial', pty.gateway, '--sample-count'],
    { encoding: 'utf8' },
  );
  expect(printed.status, printed.stderr).toBe(0);
  const block = parse(printed.stdout) as { modbus: { buses: Bus[] } };
  const [rtuBus, tcpBus] = block.modbus.buses as [Bus, Bus];
  // Over TCP the same devices are read from their holding registers (function 3), on the
  // RTU line from their input registers (function 4, as printed).
  for (const d of tcpBus.devices) for (const r of d.registers) r.kind = 'holding';
  const fast = {
    timeoutMs: 300,
    retries: 1,
    retryBackoff: { minMs: 20, maxMs: 50 },
    reconnectBackoff: { minMs: 100, maxMs: 300 },
  };
  sim = spawnApp({ name: 'iot-sim', bin: BINS.sim, args: simArgs() });
  await until('iot-sim listening on TCP', () => listening(tcpPort));
  const config = {
    gatewayId: `gw-${run}`,
    mqtt: { embedded: false },
    modbus: { buses: [rtuBus, tcpBus].map((b) => ({ ...b, ...fast })) },
    outbox: { path: join(dir, 'outbox.sqlite') },
    kafka: { brokers, topic },
    http: { port: httpPort },
  };
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, JSON.stringify(config));
  gateway = spawnApp({
    name: 'gateway',
    bin: BINS.gateway,
    args: ['--config', file],
    logFile: join(dir, 'gateway.log'),
  });
  const line = await gateway.waitFor((l) => l.msg === 'health endpoint listening', 30_000);
  httpUrl = String(line.url).replace(/\/health$/, '');
});

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  await sim?.stop('SIGKILL');
  await pty.stop();
  if (!process.env.KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
});

const DEVICE_IDS = [...twins.keys()].flatMap((id) => [id, `${id}-tcp`]);

describe('the gateway polling iot-sim modbus', () => {
  it('delivers to Kafka the values the simulator served, on RTU and TCP', async () => {
    type Health = {
      sources: Record<string, { modbus?: { devices: Record<string, { polls: number }> } }>;
    };
    await until('8 polls of every device', async () => {
      const h = (await (await fetch(`${httpUrl}/health`)).json()) as Health;
      const polls = Object.values(h.sources).flatMap((s) =>
        Object.values(s.modbus?.devices ?? {}).map((d) => d.polls),
      );
      return polls.length === DEVICE_IDS.length && Math.min(...polls) >= 8 ? true : undefined;
    });
    const stopped = sim?.stop('SIGINT'); // the summary and the labels file
    const records = await until('readings in Kafka', async () => {
      const all = await readTopic(brokers, topic).catch(() => [] as ReadingRecord[]);
      return all.length >= DEVICE_IDS.length * 8 ? all : undefined;
    });
    await stopped;
    const summary = sim?.lines.find((l) => l.command === 'modbus');
    expect(summary?.transport).toMatchObject({ crcErrors: 0, incompleteFrames: 0 });

    const labels = readFileSync(labelsFile, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((row): Label => {
        const [device, metric, type, start, end] = row.split(',');
        return {
          device: device as string,
          metric: metric as string,
          type: type as Label['type'],
          start: Number(start),
          end: Number(end),
        };
      });
    expect(labels.length).toBeGreaterThan(0);

    const checked = new Map<string, number>();
    let anomalous = 0;
    for (const r of records) {
      const simId = r.deviceId.replace(/-tcp$/, '');
      const n = r.metrics.sample_count?.value as number;
      expect(n, `${r.deviceId} sample_count`).toBeGreaterThan(0);
      const sample = nthSample(simId, n);
      const slots = registerMap(sample.values.map((v) => v.metric)).slots;
      expect(Object.keys(r.metrics).sort()).toEqual(
        ['sample_count', ...slots.map((s) => s.metric.name)].sort(),
      );
      for (const slot of slots) {
        const value = sample.values.find((v) => v.metric === slot.metric)?.value as number;
        const got = r.metrics[slot.metric.name];
        expect(got?.value, `${r.deviceId} sample ${n} ${slot.metric.name}`).toBeCloseTo(
          servedValue(slot, value),
          9,
        );
        expect(got?.unit).toBe(slot.metric.unit);
        if (
          labels.some(
            (l) =>
              l.device === simId &&
              l.metric === slot.metric.name &&
              sample.time >= l.start &&
              sample.time < l.end,
          )
        )
          anomalous += 1;
      }
      checked.set(r.deviceId, (checked.get(r.deviceId) ?? 0) + 1);
    }
    expect([...checked.keys()].sort()).toEqual([...DEVICE_IDS].sort());
    for (const [id, count] of checked) expect(count, id).toBeGreaterThanOrEqual(8);
    expect(anomalous, 'readings of samples inside a labelled spike').toBeGreaterThan(0);
  });
});
