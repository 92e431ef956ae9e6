import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi } from '../src/http/api/app.ts';
import { API_ERRORS } from '../src/http/api/http-errors.ts';
import type { IngestTarget } from '../src/http/api/routes-ingest.ts';
import { LiveFeed } from '../src/http/dashboard/live-feed.ts';
import type { HubQueries, ReadingStore } from '../src/ports.ts';

// One hostile request never takes the REST API down, and every error has a stable code:
// non-finite numbers, times past the Date range, deep bodies and type-coerced bodies are 400s,
// client errors get their own codes (logged at info), and a 503 says nothing internal.

const NOW = Date.parse('2026-11-22T12:00:00Z');
const TOKEN = 'a-very-secret-token-123';
const auth = { authorization: `Bearer ${TOKEN}` };
const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

const queries: HubQueries = {
  series: async () => [],
  devices: async () => [],
  anomalies: async () => [],
  gateways: async () => [],
};

function api(
  over: { store?: Partial<ReadingStore>; ingest?: Partial<IngestTarget>; live?: LiveFeed } = {},
) {
  const lines: Record<string, unknown>[] = [];
  const statuses: unknown[] = [];
  const app = buildApi({
    store: {
      init: async () => {},
      ping: async () => true,
      write: async () => {},
      readings: async () => [],
      ...over.store,
    },
    queries,
    log: pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) }),
    now: () => NOW,
    health: async () => ({ status: 'ok' }),
    token: TOKEN,
    rateLimitPerMinute: 10_000,
    ingest: {
      append: () => ({ accepted: 0, duplicates: 0 }),
      deadLetter: async () => {},
      writeStatus: async (s) => void statuses.push(s),
      ...over.ingest,
    },
    ...(over.live ? { live: over.live } : {}),
  });
  apps.push(app);
  const get = (url: string) => app.inject({ url, headers: auth });
  const post = (url: string, payload: string, type = 'application/json') =>
    app.inject({ method: 'POST', url, headers: { ...auth, 'content-type': type }, payload });
  return { app, get, post, lines, statuses };
}

const code = (res: { json(): { error?: { code?: string } } }) => res.json().error?.code;

describe('REST API: hostile requests', () => {
  it.each([
    '/api/devices?limit=Infinity',
    '/api/devices?offset=Infinity',
    '/api/devices?limit=-Infinity',
    '/api/anomalies?limit=Infinity',
    '/api/anomalies?offset=-Infinity',
    '/api/devices/d/readings?limit=Infinity',
    '/api/devices/d/readings?every=1m&limit=Infinity',
  ])('%s: 400 BAD_REQUEST (a non-finite number)', async (url) => {
    const res = await api().get(url);
    expect(res.statusCode, res.body).toBe(400);
    expect(code(res)).toBe('BAD_REQUEST');
  });

  it.each([
    '/api/devices/d/readings?to=9999999999999999',
    '/api/devices/d/readings?from=8640000000000001&to=8640000000000002',
    '/api/anomalies?from=9007199254740991',
    '/api/anomalies?to=10000-01-01',
  ])('%s: 400 TIME_INVALID (past the Date range)', async (url) => {
    const res = await api().get(url);
    expect(res.statusCode, res.body).toBe(400);
    expect(code(res)).toBe('TIME_INVALID');
  });

  it('still takes the widest range it documents', async () => {
    const res = await api().get('/api/anomalies?from=9999-12-01&to=253402300799999');
    expect(res.statusCode, res.body).toBe(200);
  });

  it.each(['/api/ingest', '/api/ingest/status'])(
    '%s: a body nested 30,000 deep is 400 BODY_TOO_DEEP, not a stack overflow',
    async (url) => {
      // 30,000 deep: within the status route's 64 KiB, and far past what JSON.stringify survives.
      const deep = `{"records":[${'['.repeat(30_000)}${']'.repeat(30_000)}]}`;
      const res = await api().post(url, deep);
      expect(res.statusCode, res.body).toBe(400);
      expect(code(res)).toBe('BODY_TOO_DEEP');
    },
  );

  it('never coerces a body: a null or text time is refused, not stored as a number', async () => {
    const { post, statuses } = api();
    const ok = { kind: 'gateway-status', gatewayId: 'gw-1', time: NOW };
    for (const time of [null, String(NOW), true]) {
      const res = await post('/api/ingest/status', JSON.stringify({ ...ok, time }));
      expect(res.statusCode, JSON.stringify(time)).toBe(400);
      expect(code(res)).toBe('BAD_REQUEST');
    }
    expect(statuses).toEqual([]);
    expect((await post('/api/ingest/status', JSON.stringify(ok))).statusCode).toBe(204);
    expect(statuses).toEqual([ok]);
  });

  it('still coerces query strings and path parameters (they are text)', async () => {
    const res = await api().get('/api/devices?limit=2&offset=0');
    expect(res.statusCode).toBe(200);
  });
});

describe('REST API: error codes and logs', () => {
  it('a failure is a 503 with a generic message and the request id; the cause is only logged', async () => {
    const { get, lines } = api({
      store: {
        readings: async () => {
          throw new Error('SQLITE_IOERR: disk I/O error at /srv/secret/store.db');
        },
      },
    });
    const res = await get('/api/devices/d/readings');
    expect(res.statusCode).toBe(503);
    const body = res.json().error;
    expect(body.code).toBe('QUERY_FAILED');
    expect(res.body).not.toContain('secret');
    expect(res.body).not.toContain('SQLITE');
    expect(body.message).toContain(body.requestId);
    const logged = lines.find((l) => l.msg === 'request failed');
    expect(logged).toMatchObject({ level: 50, reqId: body.requestId });
    expect(JSON.stringify(logged)).toContain('/srv/secret/store.db');
  });

  it.each([
    ['not JSON', '/api/ingest', 400, 'BODY_NOT_JSON', '{"records": [', 'application/json'],
    ['empty', '/api/ingest', 400, 'BODY_EMPTY', '', 'application/json'],
    ['XML', '/api/ingest', 415, 'MEDIA_TYPE_UNSUPPORTED', '<records/>', 'application/xml'],
    ['as text', '/api/ingest', 415, 'MEDIA_TYPE_UNSUPPORTED', '{"records": []}', 'text/plain'],
    [
      'with __proto__',
      '/api/ingest',
      400,
      'BODY_FORBIDDEN_KEY',
      '{"records": [{"__proto__": {"admin": true}}]}',
      'application/json',
    ],
    [
      'with constructor.prototype',
      '/api/ingest/status',
      400,
      'BODY_FORBIDDEN_KEY',
      '{"kind": "gateway-status", "constructor": {"prototype": {}}}',
      'application/json',
    ],
    [
      '> 64 KiB',
      '/api/ingest/status',
      413,
      'BODY_TOO_LARGE',
      `"${'y'.repeat(70_000)}"`,
      'application/json',
    ],
    ['off schema', '/api/ingest', 400, 'BAD_REQUEST', '{"records": 1}', 'application/json'],
  ] as const)(
    'a body %s to %s: %d %s, logged at info',
    async (_what, url, status, expected, payload, type) => {
      const { post, lines } = api();
      const res = await post(url, payload, type);
      expect(res.statusCode, res.body).toBe(status);
      expect(code(res)).toBe(expected);
      expect(lines.filter((l) => (l.level as number) >= 40)).toEqual([]);
      expect(lines).toContainEqual(expect.objectContaining({ level: 30, code: expected }));
    },
  );

  it('404 NOT_FOUND, 405 METHOD_NOT_ALLOWED with Allow, 400 URL_INVALID', async () => {
    const { app } = api();
    const missing = await app.inject({ url: '/api/nothing', headers: auth });
    expect([missing.statusCode, code(missing)]).toEqual([404, 'NOT_FOUND']);
    const del = await app.inject({ method: 'DELETE', url: '/api/devices/d', headers: auth });
    expect([del.statusCode, code(del)]).toEqual([405, 'METHOD_NOT_ALLOWED']);
    expect(del.headers.allow).toBe('GET, HEAD');
    const get = await app.inject({ method: 'GET', url: '/api/ingest', headers: auth });
    expect([get.statusCode, get.headers.allow]).toEqual([405, 'POST']);
    const bad = await app.inject({ url: '/api/devices/%E0%A4%A', headers: auth });
    expect([bad.statusCode, code(bad)]).toEqual([400, 'URL_INVALID']);
  });

  it('README lists every code of the catalog with its status', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    for (const [c, [status]] of Object.entries(API_ERRORS))
      expect(readme, c).toMatch(new RegExp(`\\| \`${c}\`\\s+\\| ${status} `));
  });
});

describe('REST API: the OpenAPI document says what the server does', () => {
  type Operation = {
    parameters?: { name: string; in: string; required?: boolean }[];
    responses: Record<string, unknown>;
    security?: unknown[];
  };
  const doc = async () =>
    (await api({ live: new LiveFeed({ heartbeatMs: 0 }) }).app.inject('/docs/json')).json() as {
      openapi: string;
      paths: Record<string, Record<string, Operation>>;
    };

  it('limit and offset are optional (they have defaults)', async () => {
    const { paths } = await doc();
    for (const path of ['/api/devices', '/api/anomalies', '/api/devices/{id}/readings'])
      for (const p of paths[path]?.get?.parameters ?? [])
        if (p.in === 'query') expect(p.required ?? false, `${path} ${p.name}`).toBe(false);
  });

  it('every operation behind the token documents 401, and its client and server errors', async () => {
    const { paths } = await doc();
    const ops = Object.entries(paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ name: `${method} ${path}`, op })),
    );
    expect(ops.length).toBeGreaterThanOrEqual(10);
    // The dashboard's event stream needs the token like the rest (it was documented as open).
    expect(paths['/api/stream']?.get?.responses).toHaveProperty('401');
    for (const { name, op } of ops) {
      const statuses = Object.keys(op.responses);
      if (name === 'get /api/health') {
        expect(op.security).toEqual([]);
        expect(statuses).toEqual(expect.arrayContaining(['200', '429', '503']));
        continue;
      }
      // Bearer: the document's default, or said again.
      expect(op.security ?? [{ bearer: [] }], name).toEqual([{ bearer: [] }]);
      expect(statuses, name).toEqual(expect.arrayContaining(['400', '401', '503']));
      if (name.startsWith('post ')) expect(statuses, name).toContain('413');
      else expect(statuses, name).toContain('429');
    }
    expect(Object.keys(paths['/api/ingest/status']?.post?.responses ?? {})).toContain('204');
    expect(Object.keys(paths['/api/ingest/status']?.post?.responses ?? {})).not.toContain('200');
  });
});
