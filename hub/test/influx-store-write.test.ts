import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxStore } from '../src/influx/store.ts';
import { record } from './support/evaluate.ts';

// The write path talks HTTP itself (not through the influx library): the same request the
// library makes, and a failure that rejects with InfluxDB's reason.

const requests: { url: string; auth: string | undefined; body: string }[] = [];
let answer = { status: 204, body: '' };
const server = createServer((req: IncomingMessage, res) => {
  let body = '';
  req.on('data', (c) => {
    body += c;
  });
  req.on('end', () => {
    requests.push({ url: req.url ?? '', auth: req.headers.authorization, body });
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(answer.body);
  });
});
let url = '';

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

const T0 = Date.UTC(2026, 10, 22);

/** One reading (temperature 21.5 of dev-1 at T0). */
function writeOne(store: InfluxStore): Promise<void> {
  return store.writeBatch({
    readings: [record('dev-1', 1, T0, { temperature: 21.5 })],
    aggregates: [],
    events: [],
  });
}

/** One reading written while the server gives this answer. */
async function writeAnswered(given: typeof answer): Promise<void> {
  const store = new InfluxStore({ url, database: 'iot' });
  answer = given;
  try {
    await writeOne(store);
  } finally {
    answer = { status: 204, body: '' };
    await store.close();
  }
}

describe('InfluxStore writes', () => {
  it('POSTs line protocol to /write with db, precision, retention policy and basic auth', async () => {
    const store = new InfluxStore({ url, database: 'iot', username: 'u', password: 'p w' });
    requests.length = 0;
    await writeOne(store);
    expect(requests).toEqual([
      {
        url: '/write?db=iot&precision=ms&rp=raw',
        auth: `Basic ${Buffer.from('u:p w').toString('base64')}`,
        body: `readings,device=dev-1,gateway=gw-1,metric=temperature,site=unassigned gateway_seq=2i,seq=1i,value=21.5 ${T0}`,
      },
    ]);
  });

  it('sends an InfluxDB 2.x / 3 token as `Authorization: Token` on writes and queries', async () => {
    const store = new InfluxStore({ url, database: 'iot', token: 'tok-en', manageSchema: false });
    requests.length = 0;
    answer = {
      status: 200,
      body: JSON.stringify({
        results: [
          {
            statement_id: 0,
            series: [
              {
                columns: ['name', 'duration', 'shardGroupDuration', 'replicaN', 'default'],
                values: [
                  ['raw', '720h0m0s', '24h0m0s', 1, true],
                  ['long', '0s', '168h0m0s', 1, false],
                ],
              },
            ],
          },
        ],
      }),
    };
    try {
      await store.init(); // manageSchema false: one SHOW RETENTION POLICIES, no DDL
      answer = { status: 204, body: '' };
      await writeOne(store);
    } finally {
      answer = { status: 204, body: '' };
    }
    expect(requests.map((r) => [r.url.split('?')[0], r.auth])).toEqual([
      ['/query', 'Token tok-en'],
      ['/write', 'Token tok-en'],
    ]);
    expect(decodeURIComponent(requests[0]?.url ?? '')).toMatch(
      /q=show retention policies on "iot"/i,
    );
  });

  it('rejects with the reason InfluxDB gave', async () => {
    await expect(
      writeAnswered({ status: 400, body: '{"error":"field type conflict"}' }),
    ).rejects.toThrow(/HTTP 400: .*field type conflict/);
  });

  it('fails (to be retried) on an error status with an empty body, as a proxy may answer', async () => {
    await expect(writeAnswered({ status: 503, body: '' })).rejects.toMatchObject({
      code: 'INFLUX_WRITE_FAILED',
      retriable: true,
    });
  });

  it('rejects when InfluxDB cannot be reached', async () => {
    const store = new InfluxStore({ url: 'http://127.0.0.1:1', database: 'iot' });
    await expect(
      store.writeBatch({
        readings: [record('dev-1', 1, T0, { temperature: 1 })],
        aggregates: [],
        events: [],
      }),
    ).rejects.toThrow();
  });
});
