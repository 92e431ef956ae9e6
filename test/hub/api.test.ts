import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AppProcess } from '../../scripts/lib/app-process.ts';
import { fleetRecords, produce, progress, RULES_YAML, startHub, T0, waitUntil } from './support.ts';

// The REST contract against real InfluxDB contents written by a real hub.

const brokers = inject('kafkaBrokers');
const influxUrl = inject('influxUrl');
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-hub-api-${run}-`));
const topic = `hub-api-${run}`;
const statusTopic = `status-${run}`;
const TOKEN = `token-${run}-0123456789`;
let hub: AppProcess | undefined;
let url = '';

beforeAll(async () => {
  writeFileSync(join(dir, 'rules.yaml'), RULES_YAML);
  const config = join(dir, 'hub.yaml');
  writeFileSync(
    config,
    `stream:\n  rulesFile: ${join(dir, 'rules.yaml')}\nkafka:\n  statusTopic: ${statusTopic}\n  deadLetterTopic: dlq-${run}\n  anomalyTopic: anomalies-${run}\n`,
  );
  await produce(brokers, topic, fleetRecords(3, 600));
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: statusTopic,
    messages: [
      {
        key: 'gw-1',
        value: JSON.stringify({
          v: 1,
          kind: 'gateway-status',
          version: '0.1.0',
          gatewayId: 'gw-1',
          time: Date.now() - 500,
          kafka: { connected: true, lastError: null },
          outbox: { backlogRows: 3, oldestReceivedAt: null },
          forwarder: { forwarded: 42, batches: 2, failures: 0 },
        }),
      },
    ],
  });
  await producer.disconnect();
  const group = `api-${run}`;
  hub = startHub({
    brokers,
    influxUrl,
    topic,
    group,
    database: `hub_api_${run}`,
    config,
    logFile: join(dir, 'hub.log'),
    env: { HUB_API_TOKEN: TOKEN },
  });
  url = String((await hub.waitFor((l) => l.msg === 'REST API listening')).url);
  await waitUntil('every offset committed', async () => {
    const p = await progress(brokers, topic, group);
    return p.committed === p.end;
  });
});

afterAll(async () => {
  await hub?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const get = async (path: string, token: string | null = TOKEN) => {
  const res = await fetch(`${url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown> & { [k: string]: never },
  };
};
const range = `from=${T0 - 3_600_000}&to=${T0 + 3_600_000}`;

describe('hub REST API on real data', () => {
  it('refuses requests without the token, except health', async () => {
    expect((await get('/api/devices', null)).status).toBe(401);
    expect((await get('/api/health', null)).status).toBe(200);
  });

  it('lists the devices with their open anomalies', async () => {
    const { status, body } = await get('/api/devices');
    expect(status).toBe(200);
    expect(body.total).toBe(3);
    expect((await get('/api/devices/dev-0')).body).toMatchObject({
      deviceId: 'dev-0',
      gateway: 'gw-1',
    });
  });

  it('returns raw and aggregated readings', async () => {
    const raw = await get(`/api/devices/dev-0/readings?${range}&limit=50&metrics=temperature`);
    expect(raw.status).toBe(200);
    expect(raw.body).toMatchObject({ count: 50, truncated: true });
    const agg = await get(
      `/api/devices/dev-0/readings?${range}&every=1m&fn=max&metrics=temperature`,
    );
    expect(agg.status).toBe(200);
    const points = agg.body.points as unknown as { metric: string; value: number }[];
    expect(points.length).toBeGreaterThanOrEqual(10);
    expect(points.every((p) => p.metric === 'temperature')).toBe(true);
    expect(Math.max(...points.map((p) => p.value))).toBe(80);
  });

  it('returns anomaly episodes, filtered and paged', async () => {
    const all = await get(`/api/anomalies?${range}&limit=1000`);
    expect(all.status).toBe(200);
    const n = (all.body.anomalies as unknown as unknown[]).length;
    expect(n).toBeGreaterThan(3);
    const critical = await get(`/api/anomalies?${range}&severity=critical&device=dev-0&limit=2`);
    const rows = critical.body.anomalies as unknown as {
      severity: string;
      deviceId: string;
      title: string;
    }[];
    expect(rows.length).toBe(2);
    expect(critical.body.nextOffset).toBe(2);
    expect(rows.every((a) => a.severity === 'critical' && a.deviceId === 'dev-0')).toBe(true);
    expect(rows[0]?.title).toContain('range');
  });

  it('shows gateway status from the status topic, and the rules', async () => {
    await waitUntil(
      'gateway status',
      async () => ((await get('/api/gateways')).body.gateways as unknown as unknown[]).length > 0,
      30_000,
    );
    const { body } = await get('/api/gateways');
    expect((body.gateways as unknown as unknown[])[0]).toMatchObject({
      gatewayId: 'gw-1',
      forwarded: 42,
      kafkaConnected: true,
    });
    expect(((await get('/api/rules')).body.rules as unknown as unknown[]).length).toBe(3);
  });

  it('serves Prometheus metrics', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/iot_hub_readings_total \d+/);
    expect(text).toContain('iot_hub_consumer_lag');
    // Checkpoints were made (the hub read records): their count and the time they took.
    expect(Number(/^iot_hub_checkpoints_total (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(Number(/^iot_hub_checkpoint_seconds_total (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
  });
});
