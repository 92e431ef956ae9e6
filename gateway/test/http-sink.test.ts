import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxRow } from '../src/ports.ts';
import { HttpSink } from '../src/uplink/http-sink.ts';

// A stand-in hub that records what it got and answers as told.
const got: { path: string; auth: string | undefined; body: unknown }[] = [];
let answer: { status: number; body: unknown; delayMs?: number } = {
  status: 200,
  body: { accepted: 0, duplicates: 0, invalid: [] },
};
const server = createServer(async (req: IncomingMessage, res) => {
  let text = '';
  for await (const chunk of req) text += chunk;
  got.push({
    path: req.url ?? '',
    auth: req.headers.authorization,
    body: text ? JSON.parse(text) : undefined,
  });
  if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
  res.writeHead(answer.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(answer.body));
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const rows: OutboxRow[] = [1, 2].map((id) => ({
  id,
  deviceId: 'dev-1',
  session: 7,
  seq: id,
  time: 1_700_000_000_000 + id,
  receivedAt: 1_700_000_000_100 + id,
  metrics: { t: { value: id, unit: 'Cel' } },
}));

describe('HttpSink (single-box uplink)', () => {
  const sink = () =>
    new HttpSink({
      url,
      token: 'tok',
      gatewayId: 'gw-1',
      site: 'lab',
      timeoutMs: 300,
      log: pino({ level: 'silent' }),
    });

  it('posts records in the Kafka record format with the bearer token, and resolves on 200', async () => {
    got.length = 0;
    answer = { status: 200, body: { accepted: 2, duplicates: 0, invalid: [] } };
    await sink().send(rows);
    expect(got[0]).toMatchObject({
      path: '/api/ingest',
      auth: 'Bearer tok',
      body: {
        records: [
          {
            v: 1,
            gatewayId: 'gw-1',
            gatewaySeq: 1,
            deviceId: 'dev-1',
            site: 'lab',
            session: 7,
            seq: 1,
          },
          { gatewaySeq: 2 },
        ],
      },
    });
  });

  it('rejects (so the forwarder resends) on an error status, a timeout and an unreachable hub', async () => {
    answer = { status: 401, body: { error: { code: 'UNAUTHORISED' } } };
    await expect(sink().send(rows)).rejects.toThrow(/401.*hub\.token/);
    answer = { status: 503, body: {} };
    await expect(sink().send(rows)).rejects.toMatchObject({
      code: 'UPLINK_FAILED',
      retriable: true,
    });
    answer = { status: 200, body: { accepted: 2, duplicates: 0, invalid: [] }, delayMs: 1000 };
    await expect(sink().send(rows)).rejects.toThrow(/unreachable/);
    const down = new HttpSink({
      url: 'http://127.0.0.1:1',
      gatewayId: 'gw-1',
      timeoutMs: 300,
      log: pino({ level: 'silent' }),
    });
    await expect(down.connect()).rejects.toThrow(/hub unreachable/);
  });

  it('sends status records to /api/ingest/status', async () => {
    got.length = 0;
    answer = { status: 204, body: '' };
    await sink().sendStatus('gw-1', { kind: 'gateway-status', gatewayId: 'gw-1', time: 1 });
    expect(got[0]).toMatchObject({ path: '/api/ingest/status', body: { kind: 'gateway-status' } });
  });
});

describe('HttpSink batches', () => {
  it('sends at most 10,000 records a request and splits one the hub finds too large (413)', async () => {
    const many: OutboxRow[] = Array.from({ length: 25_000 }, (_, i) => ({
      ...(rows[0] as OutboxRow),
      id: i + 1,
    }));
    got.length = 0;
    const sizes: number[] = [];
    let first = true;
    server.removeAllListeners('request');
    server.on('request', async (req: IncomingMessage, res) => {
      let text = '';
      for await (const chunk of req) text += chunk;
      const n = (JSON.parse(text) as { records: unknown[] }).records.length;
      if (first && n > 1000) {
        first = false; // a hub with a smaller limit than ours, once
        res.writeHead(413).end('{"error":{"code":"BODY_TOO_LARGE"}}');
        return;
      }
      sizes.push(n);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ accepted: n, duplicates: 0, invalid: [] }));
    });
    const sink = new HttpSink({
      url,
      gatewayId: 'gw-1',
      timeoutMs: 10_000,
      log: pino({ level: 'silent' }),
    });
    await sink.send(many);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(25_000);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10_000);
    expect(sizes.slice(0, 2)).toEqual([5_000, 5_000]); // the refused first 10,000, halved
  });
});
