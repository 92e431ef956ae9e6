import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadingRecord } from '@iot-stream/contracts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';
import { readTopic } from '../support/kafka-read.ts';
import {
  expectedValue,
  FIXTURE,
  fixtureRegisters,
  PyModbusDevice,
} from '../support/modbus-device.ts';
import { PtyPair } from '../support/pty.ts';

// The gateway's Modbus input against pymodbus, an independent implementation: RTU over a socat
// pseudo-terminal pair (the real serialport bindings) and TCP. Every type and order decoded;
// a slow device, a device answering exceptions, a bus unplugged and replugged, all while the
// other devices keep being polled and their readings reach Kafka.

const brokers = inject('kafkaBrokers');
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-modbus-${run}-`));
const topic = `modbus-${run}`;
const pty = new PtyPair(dir);
let tcpPort = 0;
let httpUrl = '';
let gateway: AppProcess | undefined;
let rtuDevice: PyModbusDevice | undefined;
let tcpDevice: PyModbusDevice | undefined;
const TIMEOUT_MS = 300;

const startRtu = async () => {
  await pty.start();
  rtuDevice = await new PyModbusDevice({ units: [1], rtu: pty.device, baud: 115_200 }).start();
};
const startTcp = async () => {
  tcpDevice = await new PyModbusDevice({ units: [1, 2, 3], tcpPort }).start();
};

interface DeviceHealth {
  polls: number;
  failed: number;
  skipped: number;
  retries: number;
  errors: Record<string, number>;
}
interface Health {
  sources: Record<
    string,
    {
      quarantinedByReason: Record<string, number>;
      modbus?: {
        connected: boolean;
        connects: number;
        devices: Record<string, DeviceHealth>;
      };
    }
  >;
}
const health = async () => (await (await fetch(`${httpUrl}/health`)).json()) as Health;
const rtuBus = () => `modbus:${pty.gateway}`;
const tcpBus = () => `modbus:127.0.0.1:${tcpPort}`;
const device = async (bus: string, id: string) =>
  (await health()).sources[bus]?.modbus?.devices[id] as DeviceHealth;

async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  const [tcp, httpPort] = (await freePorts(2)) as [number, number];
  tcpPort = tcp;
  await startRtu();
  await startTcp();
  const registers = fixtureRegisters();
  const bus = { timeoutMs: TIMEOUT_MS, retries: 1, retryBackoff: { minMs: 50, maxMs: 100 } };
  const reconnectBackoff = { minMs: 100, maxMs: 500 };
  const config = {
    gatewayId: `gw-${run}`,
    mqtt: { embedded: false },
    modbus: {
      buses: [
        {
          rtu: { path: pty.gateway, baudRate: 115_200 },
          ...bus,
          reconnectBackoff,
          devices: [{ deviceId: `rtu-${run}`, unitId: 1, pollIntervalMs: 200, registers }],
        },
        {
          tcp: { host: '127.0.0.1', port: tcpPort },
          ...bus,
          reconnectBackoff,
          devices: [1, 2, 3].map((unitId) => ({
            deviceId: `tcp${unitId}-${run}`,
            unitId,
            pollIntervalMs: 200,
            registers,
          })),
        },
      ],
    },
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
  await rtuDevice?.stop();
  await tcpDevice?.stop();
  await pty.stop();
  if (!process.env.KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
});

/** The latest reading of a device in Kafka satisfying `match`, waiting for one. */
async function reading(deviceId: string, match: (r: ReadingRecord) => boolean = () => true) {
  return until(`a reading of ${deviceId}`, async () => {
    // The gateway creates the topic: until its partitions have leaders, reading fails.
    const records = await readTopic(brokers, topic).catch(() => []);
    return records.filter((r) => r.deviceId === deviceId && match(r)).at(-1);
  });
}

describe('Modbus input against pymodbus', () => {
  it('decodes every type, word and byte order, over RTU and TCP', async () => {
    for (const deviceId of [`rtu-${run}`, `tcp1-${run}`]) {
      const r = await reading(deviceId);
      for (const f of FIXTURE) {
        const metric = r.metrics[f.metric];
        expect(metric?.value, `${deviceId} ${f.metric}`).toBeCloseTo(expectedValue(f), 6);
        expect(metric?.unit, `${deviceId} ${f.metric} unit`).toBe(f.unit);
      }
      expect(Object.keys(r.metrics).sort()).toEqual(FIXTURE.map((f) => f.metric).sort());
      expect(r.session).toBeGreaterThan(1_600_000_000);
      expect(r.seq).toBeTypeOf('number');
    }
  });

  it('reads values the device changes', async () => {
    await tcpDevice?.command({ unit: 1, set: { kind: 'holding', address: 0, words: [0xfffe] } });
    await rtuDevice?.command({ unit: 1, set: { kind: 'coil', address: 1, bits: [true] } });
    const tcp = await reading(`tcp1-${run}`, (r) => r.metrics['h-int16-b']?.value === -2);
    expect(tcp.metrics['h-uint16-b']?.value).toBe(54321);
    const rtu = await reading(`rtu-${run}`, (r) => r.metrics['c-1']?.value === 1);
    expect(rtu.metrics['c-0']?.value).toBe(1);
  });

  it('counts a slow device (timeouts, retries) and quarantines its polls; the others go on', async () => {
    const bus = tcpBus();
    const before = await device(bus, `tcp1-${run}`);
    await tcpDevice?.command({ unit: 2, delayMs: TIMEOUT_MS * 3 });
    const slow = await until('timeouts counted', async () => {
      const d = await device(bus, `tcp2-${run}`);
      return d.failed >= 2 ? d : undefined;
    });
    expect(slow.errors.timeout).toBeGreaterThanOrEqual(slow.failed);
    expect(slow.retries).toBeGreaterThanOrEqual(1);
    const h = await health();
    expect(h.sources[bus]?.quarantinedByReason.MODBUS_POLL_FAILED).toBeGreaterThanOrEqual(2);
    expect((await device(bus, `tcp1-${run}`)).polls).toBeGreaterThan(before.polls + 2);
    await tcpDevice?.command({ unit: 2, delayMs: 0 });
    const resumed = (await device(bus, `tcp2-${run}`)).polls;
    await until('the slow device answered again', async () =>
      (await device(bus, `tcp2-${run}`)).polls > resumed + 2 ? true : undefined,
    );
    const metrics = await (await fetch(`${httpUrl}/metrics`)).text();
    expect(metrics).toContain(
      `iot_gateway_modbus_errors_total{source="${bus}",device="tcp2-${run}",kind="timeout"}`,
    );
  });

  it('counts exception answers by code and quarantines them with the reason', async () => {
    const bus = tcpBus();
    await tcpDevice?.command({ unit: 3, exception: 2 });
    const d = await until('exceptions counted', async () => {
      const x = await device(bus, `tcp3-${run}`);
      return (x.errors['exception-2'] ?? 0) >= 2 ? x : undefined;
    });
    expect(d.retries).toBe(0); // an exception is the device's answer: not retried
    expect(d.failed).toBeGreaterThanOrEqual(2);
    const others = (await device(bus, `tcp1-${run}`)).polls;
    await until('the other devices go on', async () =>
      (await device(bus, `tcp1-${run}`)).polls > others + 2 ? true : undefined,
    );
    await tcpDevice?.command({ unit: 3, exception: 0 });
  });

  it('reopens an unplugged RTU adapter and a dropped TCP connection, without a restart', async () => {
    const rtu = rtuBus();
    const tcp = tcpBus();
    await rtuDevice?.stop();
    await pty.stop(); // the USB adapter is gone: its path disappears
    await tcpDevice?.stop();
    let last: Health | undefined;
    await until('both buses down', async () => {
      last = await health();
      return !last.sources[rtu]?.modbus?.connected && !last.sources[tcp]?.modbus?.connected
        ? true
        : undefined;
    }).catch((err: Error) => {
      // Timed out twice under a full suite's load: the device, killed mid-request, reset the
      // connection and modbus-serial told no one (gateway/test/modbus-transport-drop.test.ts
      // now reproduces it at will). Should it time out again: say which bus.
      const link = (bus: string) => {
        const { devices: _, ...rest } = last?.sources[bus]?.modbus ?? { devices: {} };
        return JSON.stringify(rest);
      };
      throw new Error(`${err.message}: RTU ${link(rtu)}, TCP ${link(tcp)}`);
    });
    const stalled = {
      rtu: (await device(rtu, `rtu-${run}`)).polls,
      tcp: (await device(tcp, `tcp1-${run}`)).polls,
    };
    await new Promise((r) => setTimeout(r, 1000));
    expect((await device(rtu, `rtu-${run}`)).skipped).toBeGreaterThan(0);
    await startRtu();
    await startTcp();
    await until('polling resumed on both buses', async () => {
      const r = await device(rtu, `rtu-${run}`);
      const t = await device(tcp, `tcp1-${run}`);
      return r.polls > stalled.rtu + 2 && t.polls > stalled.tcp + 2 ? true : undefined;
    });
    const h = await health();
    expect(h.sources[rtu]?.modbus?.connects).toBeGreaterThanOrEqual(2);
    expect(h.sources[tcp]?.modbus?.connects).toBeGreaterThanOrEqual(2);
    expect(gateway?.child.exitCode).toBeNull();
  });
});
