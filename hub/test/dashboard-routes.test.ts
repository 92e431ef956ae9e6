import { get, type IncomingHttpHeaders } from 'node:http';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi } from '../src/http/api/app.ts';
import { LiveFeed } from '../src/http/dashboard/live-feed.ts';
import type { ReadingStore } from '../src/ports.ts';

const TOKEN = 'dashboard-test-token-0123';

const store: ReadingStore = {
  init: async () => undefined,
  write: async () => undefined,
  readings: async () => [],
  ping: async () => true,
};

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function start(token?: string) {
  const live = new LiveFeed({ heartbeatMs: 0 });
  const app = buildApi({
    store,
    token,
    live,
    log: pino({ level: 'silent' }),
    health: async () => ({ status: 'ok', pipeline: { readings: 0, lag: {} } }),
  });
  apps.push(app);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, live, url };
}

interface Stream {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed events so far. */
  events: { event: string; data: unknown }[];
  /** The whole body so far (for error responses). */
  text: () => string;
  ended: Promise<void>;
  /** Resolves once `done(events)` holds. */
  until(done: (events: Stream['events']) => boolean, timeoutMs?: number): Promise<Stream['events']>;
  close(): void;
}

/** GET a stream with node:http (one connection, closed when we say so). */
function openStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers, agent: false }, (res) => {
      let raw = '';
      let buffer = '';
      const events: Stream['events'] = [];
      const ended = new Promise<void>((r) => res.on('close', () => r()));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
          end = buffer.indexOf('\n\n');
        }
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        text: () => raw,
        ended,
        async until(done, timeoutMs = 5000) {
          const deadline = Date.now() + timeoutMs;
          while (!done(events)) {
            if (Date.now() > deadline) throw new Error(`no matching events in: ${raw}`);
            await new Promise((r) => setTimeout(r, 10));
          }
          return events;
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

/** Waits until the feed has `n` clients (the subscription follows the response headers). */
async function clients(live: LiveFeed, n: number) {
  for (let i = 0; i < 100 && live.counters.clients !== n; i += 1)
    await new Promise((r) => setTimeout(r, 10));
  expect(live.counters.clients).toBe(n);
}

describe('GET /api/stream', () => {
  it('streams events as text/event-stream, device readings only to their subscribers', async () => {
    const { live, url } = await start();
    const fleet = await openStream(`${url}/api/stream`);
    const device = await openStream(`${url}/api/stream?devices=dev-1,dev-2`);
    expect(fleet.status).toBe(200);
    expect(fleet.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(fleet.headers['cache-control']).toBe('no-cache, no-transform');
    await clients(live, 2);
    live.publish('readings', { deviceId: 'dev-1', readings: [] }, { topic: 'dev-1' });
    live.publish('seen', { devices: [{ deviceId: 'dev-1' }] });
    await device.until((e) => e.length >= 2);
    await fleet.until((e) => e.length >= 1);
    expect(fleet.text()).toMatch(/^retry: 3000\n/);
    expect(fleet.events.map((e) => e.event)).toEqual(['seen']);
    expect(device.events.map((e) => e.event)).toEqual(['readings', 'seen']);
    fleet.close();
    device.close();
    await clients(live, 0); // a client that goes away is unsubscribed
  });

  it('sends heartbeat comments', async () => {
    const live = new LiveFeed({ heartbeatMs: 50 });
    const app = buildApi({
      store,
      live,
      log: pino({ level: 'silent' }),
      health: async () => ({ status: 'ok' }),
    });
    apps.push(app);
    const s = await openStream(`${await app.listen({ host: '127.0.0.1', port: 0 })}/api/stream`);
    await s.until(() => s.text().includes(': heartbeat\n\n'));
    s.close();
  });

  it('refuses a bad device list with the API error body', async () => {
    const { url } = await start();
    const res = await fetch(`${url}/api/stream?devices=bad%20id`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
  });

  it('with a token: 401 without it, accepts ?token= or the bearer header', async () => {
    const { live, url } = await start(TOKEN);
    const none = await fetch(`${url}/api/stream`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORISED');
    expect((await fetch(`${url}/api/stream?token=wrong-token-0000000`)).status).toBe(401);
    const byQuery = await openStream(`${url}/api/stream?token=${TOKEN}`);
    const byHeader = await openStream(`${url}/api/stream`, { authorization: `Bearer ${TOKEN}` });
    expect([byQuery.status, byHeader.status]).toEqual([200, 200]);
    await clients(live, 2);
    byQuery.close();
    byHeader.close();
    // ?token= is for the stream alone: the REST API still wants the header.
    expect((await fetch(`${url}/api/devices?token=${TOKEN}`)).status).toBe(401);
    const ok = await fetch(`${url}/api/devices`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
  });

  it('sends the latest health at once and ends open streams when the server closes', async () => {
    const { app, live, url } = await start();
    live.publish('health', { status: 'ok' }, { sticky: true });
    const s = await openStream(`${url}/api/stream`);
    await s.until((e) => e.length === 1);
    expect(s.events[0]).toEqual({ event: 'health', data: { status: 'ok' } });
    const started = Date.now();
    await app.close();
    await s.ended;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(live.counters.clients).toBe(0);
  });
});

describe('dashboard pages', () => {
  it('redirects / to /dashboard/ and serves the page with a strict CSP', async () => {
    const { app } = await start(TOKEN);
    const root = await app.inject('/');
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/dashboard/');
    const bare = await app.inject('/dashboard');
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe('/dashboard/');
    const page = await app.inject('/dashboard/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('<script type="module" src="app.js">');
  });

  it('serves the modules and uPlot from node_modules, nothing else from there', async () => {
    const { app } = await start();
    for (const file of ['app.js', 'chart.js', 'store.js', 'style.css']) {
      const res = await app.inject(`/dashboard/${file}`);
      expect(res.statusCode, file).toBe(200);
    }
    expect((await app.inject('/dashboard/app.js')).headers['content-type']).toMatch(
      /^(text|application)\/javascript/,
    );
    const uplot = await app.inject('/dashboard/vendor/uPlot.iife.min.js');
    expect(uplot.statusCode).toBe(200);
    expect(uplot.body).toContain('uPlot');
    expect((await app.inject('/dashboard/vendor/uPlot.min.css')).statusCode).toBe(200);
    expect((await app.inject('/dashboard/vendor/uPlot.d.ts')).statusCode).toBe(404);
    expect((await app.inject('/dashboard/vendor/../package.json')).statusCode).toBe(404);
    expect((await app.inject('/dashboard/missing.js')).statusCode).toBe(404);
  });

  it('leaves the OpenAPI UI, health and metrics where they were', async () => {
    const { app } = await start(TOKEN);
    expect((await app.inject('/docs/json')).statusCode).toBe(200);
    const docs = await app.inject('/docs');
    expect([200, 302]).toContain(docs.statusCode);
    expect((await app.inject('/docs/static/swagger-ui.css')).statusCode).toBe(200);
    expect((await app.inject('/api/health')).statusCode).toBe(200);
    const spec = (await app.inject('/docs/json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toContain('/api/stream');
    expect(Object.keys(spec.paths)).not.toContain('/');
  });

  it('is not there without a live feed', async () => {
    const app = buildApi({
      store,
      log: pino({ level: 'silent' }),
      health: async () => ({ status: 'ok' }),
    });
    apps.push(app);
    expect((await app.inject('/')).statusCode).toBe(404);
    expect((await app.inject('/api/stream')).statusCode).toBe(404);
  });
});
