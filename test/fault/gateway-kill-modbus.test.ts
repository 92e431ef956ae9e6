import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@iot-stream/simulators';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { AppProcess } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';
import { startFaultGateway } from '../support/fault-gateway.ts';
import { compareDelivery, formatReport } from '../support/fault-report.ts';
import { readingKey, readTopic } from '../support/kafka-read.ts';
import { fixtureRegisters, PyModbusDevice } from '../support/modbus-device.ts';
import { PtyPair } from '../support/pty.ts';

// SIGKILL the gateway at random moments while it polls Modbus devices (pymodbus over RTU on a
// PTY pair, and over TCP). A poll has no device to resend it: the gateway's own commit is the
// acknowledgement. What counts as committed: every row found in the outbox file after each kill
// (and at the end), and every seq below the highest of its (device, session) seen anywhere (a
// session's seqs are handed out in order, so a missing one in the middle is a lost poll). Each
// must reach Kafka; a restart must never reuse an identity (a new session every start).
const kills = Number(process.env.FAULT_KILLS ?? 5);
const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
const brokers = inject('kafkaBrokers');
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-kill-modbus-${run}-`));
const pty = new PtyPair(dir);
const outboxPath = join(dir, 'outbox.sqlite');
let gateway: AppProcess | undefined;
const devices: PyModbusDevice[] = [];

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  for (const d of devices) await d.stop();
  await pty.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** (device, session, seq) of every reading in the outbox file now (the gateway is dead). */
function outboxKeys(): string[] {
  const db = new Database(outboxPath, { fileMustExist: true });
  try {
    return db
      .prepare<[], { device_id: string; session: number; seq: number }>(
        'SELECT device_id, session, seq FROM outbox',
      )
      .all()
      .map((r) => readingKey(r.device_id, r.session, r.seq));
  } finally {
    db.close();
  }
}

describe('gateway under SIGKILL, Modbus polling', () => {
  it(`loses no committed poll over ${kills} kills`, {
    timeout: 90_000 + kills * 15_000,
  }, async () => {
    const random = seededRandom(seed);
    const topic = `kill-modbus-${run}`;
    const [tcpPort, httpPort] = (await freePorts(2)) as [number, number];
    await pty.start();
    devices.push(
      await new PyModbusDevice({ units: [1, 2], rtu: pty.device, baud: 115_200 }).start(),
    );
    devices.push(await new PyModbusDevice({ units: [1], tcpPort }).start());
    const registers = fixtureRegisters();
    const poll = (deviceId: string, unitId: number) => ({
      deviceId,
      unitId,
      pollIntervalMs: 50,
      registers,
    });
    const config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      JSON.stringify({
        gatewayId: `gw-${run}`,
        mqtt: { embedded: false },
        modbus: {
          buses: [
            {
              rtu: { path: pty.gateway, baudRate: 115_200 },
              reconnectBackoff: { minMs: 50, maxMs: 200 },
              devices: [poll(`rtu1-${run}`, 1), poll(`rtu2-${run}`, 2)],
            },
            {
              tcp: { host: '127.0.0.1', port: tcpPort },
              reconnectBackoff: { minMs: 50, maxMs: 200 },
              devices: [poll(`tcp1-${run}`, 1)],
            },
          ],
        },
        outbox: { path: outboxPath },
        kafka: { brokers, topic },
        http: { port: httpPort },
      }),
    );
    const startGateway = async () => {
      gateway = await startFaultGateway(config, dir, 'modbus bus open');
    };

    const committed = new Set<string>();
    await startGateway();
    for (let k = 0; k < kills; k += 1) {
      await new Promise((r) => setTimeout(r, 300 + Math.floor(random() * 1500)));
      await gateway?.stop('SIGKILL');
      for (const key of outboxKeys()) committed.add(key);
      await startGateway();
    }
    await new Promise((r) => setTimeout(r, 1000));
    await gateway?.stop('SIGKILL'); // the last kill: what is on disk now must still get out
    for (const key of outboxKeys()) committed.add(key);
    await startGateway();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await fetch(`http://127.0.0.1:${httpPort}/health`);
      const health = (await res.json()) as {
        outbox: { backlogRows: number };
        sources: Record<string, { modbus?: { devices: Record<string, { polls: number }> } }>;
      };
      const polls = health.sources[`modbus:${pty.gateway}`]?.modbus?.devices[`rtu1-${run}`]?.polls;
      // It keeps polling, so the backlog never quite empties; this start must have polled too.
      if (health.outbox.backlogRows < 20 && (polls ?? 0) > 10) break;
      if (Date.now() > deadline)
        throw new Error(`backlog did not drain: ${health.outbox.backlogRows} rows left`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await gateway?.stop('SIGTERM')).toBe(0);
    for (const key of outboxKeys()) committed.add(key); // stopped mid-poll: left for next start
    const leftover = new Set(outboxKeys());

    const records = await readTopic(brokers, topic);
    const delivered = records.map((r) => readingKey(r.deviceId, r.session, r.seq));
    // Every seq below the highest of its session was committed (seqs are given in order).
    const highest = new Map<string, number>();
    for (const key of [...delivered, ...committed]) {
      const [device, session, seq] = key.split('/') as [string, string, string];
      const s = `${device}/${session}`;
      highest.set(s, Math.max(highest.get(s) ?? -1, Number(seq)));
    }
    for (const [s, top] of highest)
      for (let seq = 0; seq <= top; seq += 1) committed.add(`${s}/${seq}`);
    for (const key of leftover) committed.delete(key); // still in the outbox, not lost
    const report = { seed, faults: kills + 1, ...compareDelivery(committed, delivered) };
    console.log(formatReport('gateway SIGKILL (modbus)', report));

    const sessions = new Set([...highest.keys()].filter((s) => s.startsWith(`rtu1-${run}/`)));
    expect(sessions.size, 'a new session every start').toBe(kills + 2);
    const times = new Map<string, number>();
    for (const r of records) {
      const key = readingKey(r.deviceId, r.session, r.seq);
      expect(times.get(key) ?? r.time, `${key}: one identity, one poll`).toBe(r.time);
      times.set(key, r.time);
    }
    expect(report.acked, 'the gateway kept polling').toBeGreaterThan(kills * 20);
    expect(report.lost, `seed ${seed}`).toBe(0);
  });
});
