import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi } from '../src/http/api/app.ts';
import { parseTime } from '../src/http/api/time.ts';
import type { ReadingQuery, ReadingStore, StoredReading } from '../src/ports.ts';

class FakeStore implements ReadingStore {
  queries: ReadingQuery[] = [];
  constructor(private readonly rows: StoredReading[] = []) {}
  async init() {}
  async ping() {
    return true;
  }
  async write() {}
  async readings(q: ReadingQuery) {
    this.queries.push(q);
    return this.rows.slice(0, q.limit);
  }
}

const NOW = Date.parse('2026-11-22T12:00:00Z');
const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

function api(store = new FakeStore()) {
  const app = buildApi({
    store,
    log: pino({ level: 'silent' }),
    now: () => NOW,
    health: async () => ({ status: 'ok' }),
  });
  apps.push(app);
  return { app, store };
}

describe('parseTime', () => {
  it('accepts epoch ms and ISO-8601', () => {
    expect(parseTime('1763787600000')).toBe(1763787600000);
    expect(parseTime('2026-11-22T12:00:00Z')).toBe(NOW);
    expect(parseTime('2026-11-22T13:00:00+01:00')).toBe(NOW);
  });
  it('refuses anything else', () => {
    for (const bad of ['yesterday', '', '12abc', '2026-13-45T00:00:00Z', '-5'])
      expect(parseTime(bad)).toBeUndefined();
  });
});

describe('REST API', () => {
  it('GET /api/health', async () => {
    const res = await api().app.inject('/api/health');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('defaults to the last hour and passes the range to the store', async () => {
    const reading: StoredReading = {
      time: NOW - 1000,
      gatewayId: 'gw',
      gatewaySeq: 1,
      seq: 0,
      metrics: { t: { value: 1 } },
    };
    const { app, store } = api(new FakeStore([reading]));
    const res = await app.inject('/api/devices/dev-1/readings');
    expect(res.statusCode).toBe(200);
    expect(store.queries).toEqual([
      { deviceId: 'dev-1', from: NOW - 3_600_000, to: NOW, limit: 1000 },
    ]);
    expect(res.json()).toMatchObject({
      deviceId: 'dev-1',
      count: 1,
      readings: [{ time: '2026-11-22T11:59:59.000Z', seq: 0 }],
    });
  });

  it('accepts ISO-8601 and epoch ms for from/to', async () => {
    const { app, store } = api();
    await app.inject(`/api/devices/d/readings?from=2026-11-22T11:00:00Z&to=${NOW}&limit=5`);
    expect(store.queries[0]).toEqual({ deviceId: 'd', from: NOW - 3_600_000, to: NOW, limit: 5 });
  });

  it.each([
    ['/api/devices/d/readings?from=yesterday', 'TIME_INVALID'],
    ['/api/devices/d/readings?to=soon', 'TIME_INVALID'],
    [`/api/devices/d/readings?from=${NOW}&to=${NOW - 1}`, 'RANGE_INVALID'],
    ['/api/devices/d/readings?from=0', 'RANGE_TOO_LONG'],
    ['/api/devices/d/readings?limit=0', 'BAD_REQUEST'],
    ['/api/devices/d/readings?limit=100001', 'BAD_REQUEST'],
    ['/api/devices/bad%20id/readings', 'BAD_REQUEST'],
  ])('%s is a 400 with code %s', async (url, code) => {
    const res = await api().app.inject(url);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe(code);
  });

  it('answers 503 with a reason when the store fails', async () => {
    const store = new FakeStore();
    store.readings = async () => {
      throw new Error('connect ECONNREFUSED');
    };
    const res = await api(store).app.inject('/api/devices/d/readings');
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toMatchObject({ code: 'QUERY_FAILED' });
  });
});
