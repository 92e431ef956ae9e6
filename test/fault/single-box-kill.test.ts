import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@iot-stream/simulators';
import { afterAll, describe, expect, it } from 'vitest';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';
import { compareDelivery, formatReport } from '../support/fault-report.ts';
import { readingKey } from '../support/kafka-read.ts';
import { publisherFleet } from '../support/publisher.ts';

// Single-box mode (no Kafka, no InfluxDB): devices -> gateway -> HTTP ingest -> hub (local log,
// SQLite store). SIGKILL the hub and the gateway at random moments while devices publish at
// QoS 1: every reading a device got a PUBACK for must come back from the hub's REST API.
// FAULT_KILLS (default 6) and FAULT_SEED choose the schedule.
const kills = Number(process.env.FAULT_KILLS ?? 6);
const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-sb-kill-${run}-`));
const TOKEN = `token-${run}-0123456789`;
const apps: { hub?: AppProcess; gateway?: AppProcess } = {};

afterAll(async () => {
  await apps.gateway?.stop('SIGKILL');
  await apps.hub?.stop('SIGKILL');
  if (!process.env.KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
});

describe('single-box mode under SIGKILL', () => {
  it(`loses no acknowledged reading over ${kills} kills of hub and gateway`, {
    timeout: 90_000 + kills * 20_000,
  }, async () => {
    const random = seededRandom(seed);
    const [hubPort, mqttPort, gatewayPort] = await freePorts(3);
    const hubUrl = `http://127.0.0.1:${hubPort}`;
    const config = join(dir, 'hub.yaml');
    // The publisher's readings are from 2023: keep them (InfluxDB semantics drop points past
    // their retention, and so does the SQLite store).
    writeFileSync(config, 'influx:\n  rawRetention: INF\n');
    const env = { KAFKA_BROKERS: '', INFLUX_URL: '' };
    const startHub = async () => {
      apps.hub = spawnApp({
        name: 'hub',
        bin: BINS.hub,
        args: ['--config', config],
        env: {
          ...env,
          HUB_HTTP_PORT: String(hubPort),
          HUB_DATA_DIR: join(dir, 'hub'),
          HUB_API_TOKEN: TOKEN,
        },
        logFile: join(dir, 'hub.log'),
      });
      await apps.hub.waitFor((l) => l.msg === 'REST API listening', 30_000);
    };
    const startGateway = async () => {
      apps.gateway = spawnApp({
        name: 'gateway',
        bin: BINS.gateway,
        args: ['--gateway-id', `gw-${run}`],
        env: {
          ...env,
          HUB_URL: hubUrl,
          HUB_TOKEN: TOKEN,
          MQTT_PORT: String(mqttPort),
          GATEWAY_HTTP_PORT: String(gatewayPort),
          OUTBOX_PATH: join(dir, 'outbox.sqlite'),
        },
        logFile: join(dir, 'gateway.log'),
      });
      await apps.gateway.waitFor((l) => l.msg === 'MQTT broker listening', 30_000);
    };

    const acked = new Set<string>();
    const devices = publisherFleet({
      url: `mqtt://127.0.0.1:${mqttPort}`,
      prefix: `sb-${run}-`,
      sessionBase: 2000,
      acked,
    });
    await startHub();
    await startGateway();
    for (const d of devices) d.start();
    for (let k = 0; k < kills; k += 1) {
      await new Promise((r) => setTimeout(r, 300 + Math.floor(random() * 1500)));
      if (k % 2 === 0) {
        await apps.hub?.stop('SIGKILL');
        await startHub();
      } else {
        await apps.gateway?.stop('SIGKILL');
        await startGateway();
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
    await Promise.all(devices.map((d) => d.stop()));

    const headers = { authorization: `Bearer ${TOKEN}` };
    const returned = async () => {
      const keys: string[] = [];
      for (const [i] of devices.entries()) {
        const deviceId = `sb-${run}-${i}`;
        // Paged as the API says: on `truncated`, from = the last time + 1 ms.
        for (let from = 1699999999000; ; ) {
          const url = `${hubUrl}/api/devices/${deviceId}/readings?from=${from}&to=1700000070000&limit=10000`;
          const res = await fetch(url, { headers });
          if (res.status === 404) break;
          const body = (await res.json()) as {
            readings: { seq: number; time: string }[];
            truncated?: boolean;
          };
          for (const r of body.readings) keys.push(readingKey(deviceId, 2000 + i, r.seq));
          const last = body.readings.at(-1);
          if (!body.truncated || last === undefined) break;
          from = Date.parse(last.time) + 1;
        }
      }
      return keys;
    };
    const deadline = Date.now() + 60_000;
    let keys = await returned();
    while (compareDelivery(acked, keys).lost > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      keys = await returned();
    }
    expect(await apps.gateway?.stop('SIGTERM')).toBe(0);
    expect(await apps.hub?.stop('SIGTERM')).toBe(0);

    const report = { seed, faults: kills, ...compareDelivery(acked, keys) };
    console.log(
      formatReport('single-box SIGKILL of hub and gateway (MQTT QoS 1, HTTP ingest)', report),
    );
    expect(report.acked, 'devices kept publishing').toBeGreaterThan(kills * 20);
    expect(report.lost, `seed ${seed}`).toBe(0);
    expect(report.duplicates).toBe(0);
  });
});
