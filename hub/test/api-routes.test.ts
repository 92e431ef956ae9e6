import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRules } from '../src/detect/rules.ts';
import { buildApi } from '../src/http/api/app.ts';
import type { AnomalyQuery, HubQueries, ReadingStore, SeriesQuery } from '../src/ports.ts';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const TOKEN = 'a-very-secret-token-123';
const store: ReadingStore = {
  init: async () => {},
  ping: async () => true,
  write: async () => {},
  readings: async () => [],
};

class FakeQueries implements HubQueries {
  seriesQueries: SeriesQuery[] = [];
  anomalyQueries: AnomalyQuery[] = [];
  async series(q: SeriesQuery) {
    this.seriesQueries.push(q);
    return [{ time: q.from, metric: 'temperature', value: 21 }];
  }
  async devices() {
    return Array.from({ length: 5 }, (_, i) => ({
      deviceId: `dev-${i}`,
      lastSeen: NOW - i * 5 * 60_000,
      gateway: 'gw-1',
      openAnomalies: i === 0 ? 2 : 0,
    }));
  }
  async anomalies(q: AnomalyQuery) {
    this.anomalyQueries.push(q);
    return [];
  }
  async gateways() {
    return [
      {
        gatewayId: 'gw-1',
        time: NOW - 1000,
        version: '0.1.0',
        kafkaConnected: true,
        backlogRows: 0,
        oldestReceivedAt: null,
        forwarded: 10,
      },
    ];
  }
}

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

function api(options: { token?: string; rateLimitPerMinute?: number } = {}) {
  const queries = new FakeQueries();
  const app = buildApi({
    store,
    queries,
    rules: parseRules({
      rules: [{ id: 'r1', metric: 'temperature', detector: 'range', params: { max: 40 } }],
    }),
    log: pino({ level: 'silent' }),
    now: () => NOW,
    health: async () => ({ status: 'ok' }),
    metrics: async () => 'iot_hub_readings_total 3\n',
    token: options.token ?? TOKEN,
    rateLimitPerMinute: options.rateLimitPerMinute ?? 1000,
  });
  apps.push(app);
  const get = (url: string, token: string | null = TOKEN) =>
    app.inject({ url, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { app, queries, get };
}

describe('REST API: auth, contract, limits', () => {
  it('requires the bearer token except on health, metrics and docs', async () => {
    const { get } = api();
    expect((await get('/api/devices', null)).statusCode).toBe(401);
    const wrong = await get('/api/devices', 'wrong-token-wrong-token');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: { code: 'UNAUTHORISED' } });
    expect((await get('/api/devices')).statusCode).toBe(200);
    expect((await get('/api/health', null)).statusCode).toBe(200);
    const metrics = await get('/metrics', null);
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('iot_hub_readings_total 3');
    expect((await get('/docs/json', null)).statusCode).toBe(200);
  });

  it('publishes an OpenAPI document with every route', async () => {
    const doc = (await api().get('/docs/json', null)).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/health',
        '/api/devices',
        '/api/devices/{id}',
        '/api/devices/{id}/readings',
        '/api/anomalies',
        '/api/gateways',
        '/api/rules',
      ]),
    );
  });

  it('lists devices with status and paginates', async () => {
    const { get } = api();
    const page = (await get('/api/devices?limit=2&offset=2')).json();
    expect(page).toMatchObject({ total: 5, nextOffset: 4 });
    expect(page.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual(['dev-2', 'dev-3']);
    const all = (await get('/api/devices')).json();
    expect(all.devices.map((d: { status: string }) => d.status)).toEqual([
      'anomalous',
      'ok',
      'ok',
      'offline',
      'offline',
    ]);
    expect((await get('/api/devices/dev-1')).json()).toMatchObject({ deviceId: 'dev-1' });
    const missing = await get('/api/devices/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'DEVICE_NOT_FOUND' } });
  });

  it('aggregates readings with every and fn', async () => {
    const { get, queries } = api();
    const res = await get(
      '/api/devices/dev-1/readings?every=5m&fn=max&metrics=temperature,humidity',
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ every: '5m', fn: 'max', count: 1 });
    const q = queries.seriesQueries[0];
    expect(q).toMatchObject({ everyMs: 300_000, fn: 'max', metrics: ['temperature', 'humidity'] });
  });

  it('answers bad parameters with a 400 and a stable code', async () => {
    const { get } = api();
    const cases: [string, string][] = [
      ['/api/devices/dev-1/readings?every=5x', 'EVERY_INVALID'],
      ['/api/devices/dev-1/readings?every=1s&from=0&to=31536000000', 'TOO_MANY_BUCKETS'],
      ['/api/devices/dev-1/readings?fn=avg', 'BAD_REQUEST'],
      ['/api/devices/dev-1/readings?metrics=a;drop', 'BAD_REQUEST'],
      ['/api/devices/dev-1/readings?bogus=1', 'BAD_REQUEST'],
      ['/api/anomalies?severity=huge', 'BAD_REQUEST'],
      ['/api/anomalies?limit=100000', 'BAD_REQUEST'],
      ['/api/anomalies?from=yesterday', 'TIME_INVALID'],
      ['/api/devices?limit=0', 'BAD_REQUEST'],
    ];
    for (const [url, code] of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toMatchObject({ error: { code } });
    }
  });

  it('queries anomalies by range, device and severity, with paging', async () => {
    const { get, queries } = api();
    const res = await get('/api/anomalies?device=dev-1&severity=critical&limit=10&offset=20');
    expect(res.statusCode).toBe(200);
    expect(queries.anomalyQueries[0]).toMatchObject({
      deviceId: 'dev-1',
      severity: 'critical',
      limit: 10,
      offset: 20,
      to: NOW,
      from: NOW - 24 * 3_600_000,
    });
  });

  it('lists gateways and rules', async () => {
    const { get } = api();
    expect((await get('/api/gateways')).json().gateways[0]).toMatchObject({
      gatewayId: 'gw-1',
      ageMs: 1000,
    });
    expect((await get('/api/rules')).json().rules[0]).toMatchObject({
      id: 'r1',
      detector: 'range',
    });
  });

  it('rate-limits per client with a 429', async () => {
    const { get } = api({ rateLimitPerMinute: 3 });
    const codes = [];
    for (let i = 0; i < 5; i += 1) codes.push((await get('/api/rules')).statusCode);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    expect((await get('/api/rules')).json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
  });
});
