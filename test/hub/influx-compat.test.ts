import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InfluxStore } from '../../hub/src/influx/store.ts';
import { BINS, spawnApp } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';
import { type InfluxServer, startInflux } from '../../scripts/services/influx.ts';

// influx.manageSchema false and the errors a hub meets on a server that refuses schema
// statements, against a real InfluxDB 1.x with authentication on and a user without admin
// rights: the closest real stand-in here for InfluxDB 2.x and 3 (DDL refused, writes and
// queries allowed). The hub must say so at once, not retry "InfluxDB not reachable yet".
const dir = mkdtempSync(join(tmpdir(), 'iot-influx-compat-'));
let influx: InfluxServer;
const HUB = { username: 'hub', password: 'hub-password' };

async function influxQl(q: string, auth = 'admin:admin-password'): Promise<unknown> {
  const res = await fetch(`${influx.url}/query`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(auth).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ q }),
  });
  const body = (await res.json()) as { results?: Array<{ error?: string }>; error?: string };
  const error = body.error ?? body.results?.find((r) => r.error)?.error;
  if (!res.ok || error) throw new Error(`${q}: HTTP ${res.status} ${error}`);
  return body;
}

beforeAll(async () => {
  influx = await startInflux({ dir, authEnabled: true, log: () => undefined });
  // With auth on and no users, InfluxDB takes exactly one statement unauthenticated: this one.
  await influxQl("CREATE USER admin WITH PASSWORD 'admin-password' WITH ALL PRIVILEGES", '');
  for (const q of [
    'CREATE DATABASE compat',
    'CREATE RETENTION POLICY raw ON compat DURATION 30d REPLICATION 1 DEFAULT',
    'CREATE RETENTION POLICY long ON compat DURATION INF REPLICATION 1',
    'CREATE DATABASE half', // no "long" retention policy
    'CREATE RETENTION POLICY raw ON half DURATION 30d REPLICATION 1 DEFAULT',
    `CREATE USER ${HUB.username} WITH PASSWORD '${HUB.password}'`,
    `GRANT ALL ON compat TO ${HUB.username}`,
    `GRANT ALL ON half TO ${HUB.username}`,
  ])
    await influxQl(q);
}, 60_000);

afterAll(async () => {
  await influx?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const store = (over: Partial<ConstructorParameters<typeof InfluxStore>[0]> = {}) =>
  new InfluxStore({ url: influx.url, database: 'compat', ...HUB, ...over });

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (err: { code?: string; retriable?: boolean; message: string }) => ({
      code: err.code,
      retriable: err.retriable,
      message: err.message,
    }),
  );

describe('InfluxDB without admin rights (the stand-in for 2.x and 3)', () => {
  it('manageSchema true: refused at once with INFLUX_SCHEMA_REFUSED naming the statement', async () => {
    const result = await codeOf(store().init());
    expect(result).toMatchObject({ code: 'INFLUX_SCHEMA_REFUSED', retriable: false });
    expect((result as { message: string }).message).toMatch(
      /refused ALTER RETENTION POLICY "raw" ON "compat".*admin privilege.*influx\.manageSchema: false/,
    );
  });

  it('manageSchema false: no schema statement, and readings are written and queried', async () => {
    const s = store({ manageSchema: false });
    await s.init();
    const now = Date.now();
    await s.writeBatch({
      readings: [1, 2, 3].map((seq) => ({
        v: 1 as const,
        gatewayId: 'gw-1',
        gatewaySeq: seq,
        deviceId: 'dev-compat',
        time: now - 1000 + seq,
        receivedAt: now,
        metrics: { temperature: { value: 20 + seq, unit: 'Cel' } },
      })),
      aggregates: [],
      events: [],
    });
    const stored = await s.readings({
      deviceId: 'dev-compat',
      from: now - 5000,
      to: now,
      limit: 10,
    });
    expect(stored.map((r) => r.gatewaySeq)).toEqual([1, 2, 3]);
  });

  it('manageSchema false: a missing database or retention policy is named', async () => {
    const noDb = await codeOf(store({ manageSchema: false, database: 'nowhere' }).init());
    const half = await codeOf(store({ manageSchema: false, database: 'half' }).init());
    // 1.x answers a user without rights on "nowhere" with 403, an admin with "not found".
    expect(noDb).toMatchObject({ retriable: false });
    expect(['INFLUX_SCHEMA_MISSING', 'INFLUX_AUTH_FAILED']).toContain(
      (noDb as { code: string }).code,
    );
    expect(half).toMatchObject({ code: 'INFLUX_SCHEMA_MISSING', retriable: false });
    expect((half as { message: string }).message).toMatch(/no retention policy "long"/);
    const admin = { username: 'admin', password: 'admin-password', manageSchema: false };
    expect(await codeOf(store({ ...admin, database: 'nowhere' }).init())).toMatchObject({
      code: 'INFLUX_SCHEMA_MISSING',
      message: expect.stringMatching(/no database "nowhere"/),
    });
  });

  it('wrong credentials: INFLUX_AUTH_FAILED, with or without manageSchema', async () => {
    for (const manageSchema of [true, false])
      expect(await codeOf(store({ password: 'wrong', manageSchema }).init())).toMatchObject({
        code: 'INFLUX_AUTH_FAILED',
        retriable: false,
      });
  });

  /** The hub's bin as the non-admin user, on `brokers`: its exit, time taken and what it said. */
  async function refusedStart(name: string, brokers: string) {
    const [httpPort = 0] = await freePorts(1);
    const config = join(dir, `${name}.yaml`);
    writeFileSync(
      config,
      [
        `kafka: { brokers: [${brokers}], topic: compat-${httpPort} }`,
        `influx: { url: '${influx.url}', database: compat, username: hub, password: hub-password }`,
        `http: { port: ${httpPort} }`,
        `storage: { dir: '${join(dir, `${name}-data`)}' }`,
      ].join('\n'),
    );
    const started = Date.now();
    const texts: string[] = [];
    const hub = spawnApp({
      name,
      bin: BINS.hub,
      // Flags, not the file: a developer's exported INFLUX_URL / KAFKA_BROKERS (README, the fast
      // loop) would override the file and point the hub at a server that accepts its schema.
      args: ['--config', config, '--influx', influx.url, '--brokers', brokers],
      onText: (t) => texts.push(t),
    });
    const code = await hub.exited;
    const said = [...texts, ...hub.lines.map((l) => JSON.stringify(l))].join('\n');
    return { code, ms: Date.now() - started, said };
  }

  it('the hub itself stops within seconds with the code, instead of retrying for minutes', async () => {
    const { code, ms, said } = await refusedStart('hub-compat', inject('kafkaBrokers').join(','));
    expect(code).not.toBe(0);
    expect(ms).toBeLessThan(20_000);
    expect(said).toContain('INFLUX_SCHEMA_REFUSED');
    expect(said).not.toContain('not reachable yet');
  });

  it('stops within seconds on the refusal while Kafka, set up beside it, is still unreachable', async () => {
    const [nobody = 0] = await freePorts(1);
    const { code, ms, said } = await refusedStart('hub-compat-no-kafka', `127.0.0.1:${nobody}`);
    expect(code).not.toBe(0);
    // Kafka's 30 tries would take minutes: the refusal ends them, and the hub does not wait
    // for the one under way (kafkajs retries a connection for ~10 s itself).
    expect(ms).toBeLessThan(5_000);
    expect(said).toContain('INFLUX_SCHEMA_REFUSED');
  });
});
