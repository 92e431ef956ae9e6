import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AppProcess, BINS, REPO_ROOT, spawnApp } from '../../scripts/lib/app-process.ts';
import { DASHBOARDS } from './dashboards.ts';
import {
  lastValues,
  type QueryRun,
  runDashboard,
  type Selection,
  shapeProblems,
} from './evaluate.ts';
import { HUB_SCHEMA } from './hub-schema.ts';
import { influxSeries, type Series } from './influx-client.ts';

// Proof that the dashboards work: the real pipeline (two gateways on two sites -> Kafka -> hub
// -> InfluxDB) fills a fresh database from simulated devices with injected anomalies, then every
// template variable, panel target and annotation of every dashboard runs against it after
// Grafana's substitutions (test/grafana/macros.ts), for three selections of the variables, and
// must return data of the shape its panel needs. Also: every metric the hub and the gateway
// expose on /metrics is documented in docs/metrics.md, and nothing documented is missing.

const brokers = inject('kafkaBrokers').join(',');
const influxUrl = inject('influxUrl');
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-grafana-${run}-`));
const database = `grafana_${run}`;
const topic = `grafana-readings-${run}`;
const statusTopic = `grafana-status-${run}`;
const apps: AppProcess[] = [];

const SITES = ['plant-a', 'plant-b'] as const;
const DEVICES_PER_SITE = 3;
const HISTORY = '2h';
const INTERVAL = '10s';
/** Two spikes on every device's temperature, and a lasting shift on each site's first device. */
const ANOMALIES = [
  'spike:metrics=temperature,at=40m,magnitude=40',
  'spike:metrics=temperature,at=70m,magnitude=40',
  'level-shift:devices=*-001,metrics=temperature,at=110m,duration=1h,magnitude=40',
].join(';');
const RULES = `rules:
  - id: temperature-limits
    metric: temperature
    detector: range
    params: { min: -20, max: 45 }
    severity: critical
  - id: temperature-spikes
    metric: temperature
    detector: robust-zscore
    params: { threshold: 5, window: 60, minMad: 0.05 }
    severity: warning
`;

const gateways: { id: string; site: string; mqttPort: number; httpUrl: string }[] = [];
let hubUrl = '';
const acknowledged: Record<string, number> = {};

afterAll(async () => {
  await Promise.all(apps.map((a) => a.stop('SIGKILL')));
  if (!process.env.KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
});

/** Input no gateway can decode: kept in its quarantine table, reported by code. */
async function publishGarbage(mqttPort: number): Promise<void> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
    clientId: `garbage-${run}`,
    reconnectPeriod: 0,
  });
  await client.publishAsync('iot/v1/garbage-1/data', 'this is not a reading', { qos: 1 });
  await client.endAsync();
}

function startPipeline(): Promise<void>[] {
  const rules = join(dir, 'rules.yaml');
  writeFileSync(rules, RULES);
  const hubConfig = join(dir, 'hub.yaml');
  writeFileSync(
    hubConfig,
    [
      'kafka:',
      `  deadLetterTopic: dlq-${run}`,
      `  anomalyTopic: anomalies-${run}`,
      `  statusTopic: ${statusTopic}`,
      'stream:',
      `  rulesFile: ${rules}`,
      'health:',
      '  intervalMs: 1000',
      `  instance: hub-${run}`,
      '',
    ].join('\n'),
  );
  const hub = spawnApp({
    name: 'hub',
    bin: BINS.hub,
    args: ['--config', hubConfig, '--brokers', brokers, '--topic', topic, '--group', `g-${run}`],
    env: { INFLUX_URL: influxUrl, INFLUX_DATABASE: database, HUB_HTTP_PORT: '0' },
    logFile: join(dir, 'hub.log'),
  });
  apps.push(hub);
  const ready: Promise<void>[] = [
    (async () => {
      hubUrl = String((await hub.waitFor((l) => l.msg === 'REST API listening')).url);
      await hub.waitFor((l) => l.msg === 'joined consumer group');
    })(),
  ];
  for (const site of SITES) {
    const id = `gw-${site}`;
    const config = join(dir, `${id}.yaml`);
    writeFileSync(
      config,
      [
        `gatewayId: ${id}`,
        `site: ${site}`,
        'kafka:',
        `  statusTopic: ${statusTopic}`,
        '  statusIntervalMs: 1000',
        '',
      ].join('\n'),
    );
    const gateway = spawnApp({
      name: id,
      bin: BINS.gateway,
      args: ['--config', config, '--brokers', brokers, '--topic', topic],
      env: { MQTT_PORT: '0', GATEWAY_HTTP_PORT: '0', OUTBOX_PATH: join(dir, `${id}.sqlite`) },
      logFile: join(dir, `${id}.log`),
    });
    apps.push(gateway);
    ready.push(
      (async () => {
        const mqttPort = Number(
          (await gateway.waitFor((l) => l.msg === 'MQTT broker listening')).port,
        );
        const health = String(
          (await gateway.waitFor((l) => l.msg === 'health endpoint listening')).url,
        );
        await gateway.waitFor((l) => l.msg === 'Kafka connected');
        gateways.push({ id, site, mqttPort, httpUrl: health.replace(/\/health$/, '') });
      })(),
    );
  }
  return ready;
}

/** Two hours of history from each site's devices, as fast as the gateways acknowledge. */
async function simulate(gateway: (typeof gateways)[number]): Promise<void> {
  const sim = spawnApp({
    name: `sim-${gateway.site}`,
    bin: BINS.sim,
    args: [
      'mqtt',
      '--url',
      `mqtt://127.0.0.1:${gateway.mqttPort}`,
      '--devices',
      String(DEVICES_PER_SITE),
      '--prefix',
      `${gateway.site}-`,
      '--seed',
      '7',
      '--start',
      new Date(Date.now() - 2 * 3_600_000).toISOString(),
      '--duration',
      HISTORY,
      '--interval',
      INTERVAL,
      '--as-fast-as-possible',
      '--anomalies',
      ANOMALIES,
      '--quiet',
    ],
    logFile: join(dir, `sim-${gateway.site}.log`),
  });
  apps.push(sim);
  const summary = await sim.waitFor((l) => l.command === 'mqtt' && 'acknowledged' in l, 90_000);
  expect(summary).toMatchObject({ failed: 0 });
  expect(await sim.exited).toBe(0);
  acknowledged[gateway.site] = Number(summary.acknowledged);
}

const query = (q: string): Promise<Series[]> => influxSeries(influxUrl, database, q);

async function countReadings(): Promise<number> {
  const [s] = await query('SELECT count("value") FROM "raw"."readings"');
  return Number(s?.values[0]?.[1] ?? 0);
}

beforeAll(async () => {
  await Promise.all(startPipeline());
  await Promise.all(gateways.map((g) => publishGarbage(g.mqttPort)));
  await Promise.all(gateways.map(simulate));
  // Climate devices send two metrics per reading: one point each.
  const expected = 2 * Object.values(acknowledged).reduce((a, b) => a + b, 0);
  const deadline = Date.now() + 60_000;
  while ((await countReadings().catch(() => 0)) < expected) {
    if (Date.now() > deadline)
      throw new Error(`InfluxDB has ${await countReadings()} of ${expected} points`);
    await new Promise((r) => setTimeout(r, 500));
  }
}, 180_000);

/** Checks of the numbers, not just the shape, where the test knows them (as-saved selection). */
const VALUE_CHECKS: Record<string, (series: Series[]) => void> = {
  'iot-fleet-overview panel 1 "Devices reporting" A': (s) => {
    expect(lastValues(s, 'devices')).toEqual({ '': SITES.length * DEVICES_PER_SITE });
  },
  'iot-fleet-overview panel 8 "Devices per site" A': (s) => {
    expect(lastValues(s, 'devices')).toEqual(
      Object.fromEntries(SITES.map((site) => [`site=${site}`, DEVICES_PER_SITE])),
    );
  },
  'iot-fleet-overview panel 9 "Readings per site" A': (s) => {
    expect(lastValues(s, 'readings')).toEqual(
      Object.fromEntries(SITES.map((site) => [`site=${site}`, acknowledged[site]])),
    );
  },
  'iot-fleet-overview panel 3 "Open anomaly episodes by severity" A': (s) => {
    // the lasting shift on each site's first device keeps a critical episode open
    expect(lastValues(s, 'open')['severity=critical']).toBeGreaterThanOrEqual(SITES.length);
  },
  'iot-anomalies panel 4 "Episodes started, by detector" A': (s) => {
    expect(s.map((x) => x.tags?.detector).sort()).toEqual(['range', 'robust-zscore']);
  },
  'iot-pipeline-health panel 3 "Quarantined input by reason" A': (s) => {
    expect(new Set(s.map((x) => x.tags?.gateway))).toEqual(new Set(gateways.map((g) => g.id)));
    for (const x of s) expect(x.tags?.reason).toMatch(/^[A-Z_]+$/);
  },
  'iot-pipeline-health panel 1 "Outbox backlog (rows)" A': (s) => {
    expect(new Set(s.map((x) => x.tags?.gateway))).toEqual(new Set(gateways.map((g) => g.id)));
  },
};

describe('the dashboards against InfluxDB filled by the real pipeline', () => {
  it('every variable, panel and annotation query returns data of the expected shape', async () => {
    const selections: Selection[] = ['as saved', 'first value', 'second value'];
    // Some series grow with wall time (gateway status, hub health, rates over two buckets):
    // retry until every query is right, for at most a minute.
    const deadline = Date.now() + 60_000;
    let runs: QueryRun[] = [];
    let problems: string[] = [];
    for (;;) {
      runs = [];
      problems = [];
      for (const [file, d] of Object.entries(DASHBOARDS))
        for (const selection of selections)
          for (const r of await runDashboard(d, selection, Date.now(), query))
            runs.push({ ...r, where: `${file} (${selection}) ${r.where}` });
      for (const r of runs)
        for (const p of shapeProblems(r)) problems.push(`${r.where}: ${p}\n    ${r.sent}`);
      if (problems.length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(problems, problems.join('\n')).toEqual([]);

    for (const [where, check] of Object.entries(VALUE_CHECKS)) {
      const r = runs.find((x) => x.where.endsWith(`(as saved) ${where}`));
      expect(r, where).toBeDefined();
      check(r?.series ?? []);
    }
    if (process.env.GRAFANA_QUERY_LOG)
      writeFileSync(
        process.env.GRAFANA_QUERY_LOG,
        runs
          .map((r) => `${r.where}\n  ${r.sent}\n  ${JSON.stringify(r.series).slice(0, 600)}\n`)
          .join('\n'),
      );
    const count = (kind: QueryRun['kind']) => runs.filter((r) => r.kind === kind).length;
    console.log(
      `grafana: ${count('target')} panel targets, ${count('annotation')} annotations, ` +
        `${count('variable')} variable queries run against ${database}`,
    );
  });

  it('the hub schema the structural test assumes is what the hub wrote', async () => {
    for (const [measurement, schema] of Object.entries(HUB_SCHEMA)) {
      const from = `"${schema.rp}"."${measurement}"`;
      const fieldKeys = async () =>
        (await query(`SHOW FIELD KEYS FROM ${from}`)).flatMap((s) =>
          s.values.map((v) => String(v[0])),
        );
      let fields = await fieldKeys();
      for (let i = 0; fields.length === 0 && i < 30; i += 1) {
        await new Promise((r) => setTimeout(r, 1000)); // status and health arrive over time
        fields = await fieldKeys();
      }
      const tags = (await query(`SHOW TAG KEYS FROM ${from}`)).flatMap((s) =>
        s.values.map((v) => String(v[0])),
      );
      const source = measurement.startsWith('gateway_')
        ? `the gateways' status records on ${statusTopic}`
        : 'the hub';
      expect(fields.length, `${from} has data (written from ${source})`).toBeGreaterThan(0);
      for (const f of fields) expect(schema.fields, `${from} field ${f}`).toContain(f);
      for (const t of tags) expect(schema.tags, `${from} tag ${t}`).toContain(t);
    }
  });

  it('docs/metrics.md documents every metric on /metrics, and only those', async () => {
    const docs = readFileSync(join(REPO_ROOT, 'docs', 'metrics.md'), 'utf8');
    // Table rows: | `name` | type | meaning |
    const documented = new Map(
      [...docs.matchAll(/^\|\s*`([a-z_:]+)(?:\{[^}]*\})?`\s*\|\s*(\w+)\s*\|/gm)].map((m) => [
        m[1] as string,
        m[2] as string,
      ]),
    );
    for (const [app, url] of [
      ['hub', hubUrl],
      ...gateways.map((g) => ['gateway', g.httpUrl] as const),
    ] as const) {
      const text = await (await fetch(`${url}/metrics`)).text();
      const exposed = new Map(
        [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]),
      );
      expect(exposed.size, `${app} exposes metrics`).toBeGreaterThan(0);
      for (const [name, type] of exposed) {
        // prom-client's default process and Node.js metrics are documented as a group
        if (/^(process|nodejs)_/.test(name)) {
          expect(docs, `${app}: ${name}`).toMatch(/`process_\*` and `nodejs_\*`/);
          continue;
        }
        expect(documented.get(name), `${app}: ${name} (${type}) documented`).toBe(type);
      }
      const prefix = app === 'hub' ? 'iot_hub_' : 'iot_gateway_';
      for (const name of documented.keys())
        if (name.startsWith(prefix))
          expect(exposed.has(name), `${name} is documented but ${app} does not expose it`).toBe(
            true,
          );
    }
  });
});
