import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMqttFleet } from '@iot-stream/simulators';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';

// The whole path with real components: simulated devices -> gateway (aedes + SQLite outbox) ->
// Kafka -> hub -> InfluxDB -> REST, and the same scenario in single-box mode: gateway -> HTTP
// ingest -> hub (local log) -> SQLite store -> REST. Every acknowledged reading must come back
// exactly once on both paths.

const brokers = inject('kafkaBrokers').join(',');
const influxUrl = inject('influxUrl');
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-e2e-${run}-`));
const apps: AppProcess[] = [];

afterAll(async () => {
  await Promise.all(apps.map((a) => a.stop('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

interface ApiReading {
  time: string;
  gatewayId: string;
  gatewaySeq: number;
  seq: number;
  metrics: Record<string, { value: number; unit?: string }>;
}

const PATHS = [
  {
    path: 'Kafka + InfluxDB',
    hubArgs: (topic: string) => ['--brokers', brokers, '--topic', topic, '--group', `e2e-${run}`],
    hubEnv: { INFLUX_URL: influxUrl, INFLUX_DATABASE: `e2e_${run}` } as Record<string, string>,
    gatewayArgs: (topic: string) => ['--brokers', brokers, '--topic', topic],
    gatewayEnv: (_hubUrl: string) => ({}) as Record<string, string>,
    uplink: 'Kafka connected',
    consuming: 'joined consumer group',
  },
  {
    path: 'single-box (HTTP ingest + SQLite)',
    hubArgs: () => [],
    hubEnv: { KAFKA_BROKERS: '', INFLUX_URL: '', HUB_DATA_DIR: join(dir, 'hub') } as Record<
      string,
      string
    >,
    gatewayArgs: () => [],
    gatewayEnv: (hubUrl: string) => ({ KAFKA_BROKERS: '', HUB_URL: hubUrl }),
    uplink: 'hub connected',
    consuming: 'consuming',
  },
];

describe.each(PATHS)('end to end: $path', (p) => {
  it('returns every acknowledged reading from the REST API exactly once', async () => {
    const topic = `e2e-readings-${run}-${p.uplink.length}`;
    const hub = spawnApp({
      name: 'hub',
      bin: BINS.hub,
      args: p.hubArgs(topic),
      env: { ...p.hubEnv, HUB_HTTP_PORT: '0', LOG_LEVEL: 'info' },
      logFile: join(dir, `hub-${p.uplink.length}.log`),
    });
    apps.push(hub);
    const hubUrl = String((await hub.waitFor((l) => l.msg === 'REST API listening')).url);
    const gateway = spawnApp({
      name: 'gateway',
      bin: BINS.gateway,
      args: [...p.gatewayArgs(topic), '--gateway-id', `gw-${run}`],
      env: {
        ...p.gatewayEnv(hubUrl),
        MQTT_PORT: '0',
        GATEWAY_HTTP_PORT: '0',
        OUTBOX_PATH: join(dir, `outbox-${p.uplink.length}.sqlite`),
      },
      logFile: join(dir, `gateway-${p.uplink.length}.log`),
    });
    apps.push(gateway);
    const mqttPort = Number((await gateway.waitFor((l) => l.msg === 'MQTT broker listening')).port);
    await gateway.waitFor((l) => l.msg === p.uplink);
    await hub.waitFor((l) => l.msg === p.consuming);

    const acked = new Map<string, Set<number>>();
    const start = Date.now();
    const summary = await runMqttFleet({
      url: `mqtt://127.0.0.1:${mqttPort}`,
      devices: 4,
      intervalMs: 5,
      count: 250,
      seed: 11,
      prefix: `e2e-${run}-`,
      onAck: (deviceId, payload) => {
        const seqs = acked.get(deviceId) ?? new Set<number>();
        seqs.add(payload.seq);
        acked.set(deviceId, seqs);
      },
    });
    expect(summary).toMatchObject({ sent: 1000, acknowledged: 1000, failed: 0 });

    const fetchAll = async (deviceId: string): Promise<ApiReading[]> => {
      const url = `${hubUrl}/api/devices/${deviceId}/readings?from=${start - 1000}&to=${new Date(Date.now() + 1000).toISOString()}&limit=10000`;
      const res = await fetch(url);
      expect(res.status).toBe(200);
      return ((await res.json()) as { readings: ApiReading[] }).readings;
    };
    const deadline = Date.now() + 60_000;
    for (const [deviceId, seqs] of acked) {
      let readings = await fetchAll(deviceId);
      while (readings.length < seqs.size && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        readings = await fetchAll(deviceId);
      }
      const returned = readings.map((r) => r.seq);
      expect(returned.length, `${deviceId}: readings returned`).toBe(seqs.size);
      expect(new Set(returned).size, `${deviceId}: duplicates`).toBe(returned.length);
      expect(new Set(returned)).toEqual(seqs);
      for (const r of readings) {
        expect(r.gatewayId).toBe(`gw-${run}`);
        expect(r.metrics.temperature?.unit).toBe('Cel');
        expect(r.metrics.humidity?.unit).toBe('%RH');
      }
    }

    const health = (await (await fetch(`${hubUrl}/api/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok' });

    // Clean shutdown on SIGTERM.
    expect(await gateway.stop('SIGTERM')).toBe(0);
    expect(await hub.stop('SIGTERM')).toBe(0);
  });
});
