import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadingRecord } from '@iot-stream/contracts';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type AppProcess, REPO_ROOT } from '../../scripts/lib/app-process.ts';
import { startHub, waitUntil } from '../hub/support.ts';
import { CHROMIUM, launchChromium } from '../support/browser.ts';

// The built-in dashboard in a real browser (Debian's chromium driven by playwright-core; never
// a downloaded browser) against a real hub, Kafka and InfluxDB: the fleet, a device's charts
// with an anomaly marked, the anomaly list, and readings and anomalies arriving live over
// server-sent events without a reload. Screenshots go to test-results/screenshots/.

const brokers = inject('kafkaBrokers');
const influxUrl = inject('influxUrl');
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-dashboard-${run}-`));
const shots = join(REPO_ROOT, 'test-results', 'screenshots');
const TOKEN = `dashboard-${run}-token`;
const topic = `dash-readings-${run}`;
const statusTopic = `dash-status-${run}`;
const apps: AppProcess[] = [];
let browser: Browser | undefined;
let producer: Producer | undefined;
let trickle: ReturnType<typeof setInterval> | undefined;

afterAll(async () => {
  clearInterval(trickle);
  await browser?.close();
  await producer?.disconnect();
  await Promise.all(apps.map((a) => a.stop('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

/** Four devices, one reading every 10 s for 20 minutes up to `end`, two metrics each. */
function history(end: number): ReadingRecord[] {
  const devices = [
    { id: 'boiler-room', t: 33, h: 30 },
    { id: 'cold-store', t: 4, h: 82 },
    { id: 'greenhouse-1', t: 24, h: 65 },
    { id: 'office-2', t: 21, h: 45 },
  ];
  const out: ReadingRecord[] = [];
  let gatewaySeq = 0;
  for (let i = 0; i < 120; i += 1) {
    const time = end - (119 - i) * 10_000;
    for (const [d, device] of devices.entries()) {
      let temperature = device.t + Math.sin(i / 12 + d) * 1.5 + Math.sin(i * 7.3 + d) * 0.3;
      // greenhouse-1: a spike 12 minutes ago, over by now (a closed episode).
      if (device.id === 'greenhouse-1' && i >= 48 && i < 51) temperature = 44 + (i - 48) * 2;
      // boiler-room: overheating for the last minute (an open episode).
      if (device.id === 'boiler-room' && i >= 114) temperature = 41 + (i - 114) * 0.8;
      gatewaySeq += 1;
      out.push(
        reading(device.id, time, gatewaySeq, temperature, device.h + Math.cos(i / 9 + d) * 3),
      );
    }
  }
  return out;
}

function reading(
  deviceId: string,
  time: number,
  gatewaySeq: number,
  temperature: number,
  humidity: number,
): ReadingRecord {
  return {
    v: 1,
    gatewayId: 'gw-lab',
    gatewaySeq,
    deviceId,
    session: 1,
    seq: gatewaySeq % 65_536,
    time,
    receivedAt: time + 40,
    metrics: {
      temperature: { value: Number(temperature.toFixed(2)), unit: 'Cel' },
      humidity: { value: Number(humidity.toFixed(1)), unit: '%RH' },
    },
  };
}

let sending: Promise<unknown> = Promise.resolve();
/** One send at a time (the idempotent producer must not have two in flight). */
function publish(records: ReadingRecord[]): Promise<unknown> {
  sending = sending.then(() => send(records));
  return sending;
}

async function send(records: ReadingRecord[]) {
  await producer?.send({
    topic,
    acks: -1,
    messages: records.map((r) => ({
      key: r.deviceId,
      value: JSON.stringify(r),
      headers: { 'iot-record-version': '1' },
    })),
  });
}

/** The little of a canvas element the test reads (the test has no DOM types). */
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  } | null;
}

async function shoot(page: Page, name: string) {
  const path = join(shots, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

describe('the dashboard in a real browser', () => {
  it('shows the fleet, a device chart with its anomaly, and live updates', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install chromium`).toBe(true);
    mkdirSync(shots, { recursive: true });
    const end = Date.now() - 5_000;
    const kafka = new Kafka({ brokers, clientId: 'dashboard-test', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic, numPartitions: 2 },
        { topic: statusTopic, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
    await admin.disconnect();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const past = history(end);
    await publish(past);
    await producer.send({
      topic: statusTopic,
      acks: -1,
      messages: [
        {
          key: 'gw-lab',
          value: JSON.stringify({
            v: 1,
            kind: 'gateway-status',
            gatewayId: 'gw-lab',
            time: end,
            version: '0.1.0',
            kafka: { connected: true },
            outbox: { backlogRows: 37, oldestReceivedAt: end - 4200, quarantined: 0 },
            forwarder: { forwarded: past.length, failures: 0 },
          }),
        },
      ],
    });

    const rules = join(dir, 'rules.yaml');
    writeFileSync(
      rules,
      `rules:
  - id: temperature-limits
    metric: temperature
    detector: range
    params: { min: -10, max: 40 }
    severity: critical
`,
    );
    const config = join(dir, 'hub.yaml');
    writeFileSync(
      config,
      `kafka:\n  statusTopic: ${statusTopic}\n  partitions: 2\nstream:\n  rulesFile: ${rules}\nhttp:\n  token: ${TOKEN}\n`,
    );
    const hub = startHub({
      brokers,
      influxUrl,
      topic,
      group: `dash-${run}`,
      database: `dash_${run}`,
      config,
      logFile: join(dir, 'hub.log'),
    });
    apps.push(hub);
    const url = String((await hub.waitFor((l) => l.msg === 'REST API listening')).url);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const api = async <T>(path: string) =>
      (await (await fetch(url + path, { headers: auth })).json()) as T;
    await waitUntil(
      'the history in InfluxDB',
      async () => {
        const d = await api<{ total: number }>('/api/devices');
        const a = await api<{ anomalies: { deviceId: string }[] }>('/api/anomalies');
        const g = await api<{ gateways: unknown[] }>('/api/gateways');
        return d.total === 4 && a.anomalies.length >= 2 && g.gateways.length === 1;
      },
      60_000,
    );

    browser = await launchChromium();
    // A steady trickle from two devices (boiler-room still overheating), so throughput shows.
    let beat = 0;
    trickle = setInterval(() => {
      beat += 1;
      const t = Date.now();
      publish([
        reading('boiler-room', t, 20_000 + 2 * beat, 45 + Math.sin(beat / 4), 29),
        reading('office-2', t, 20_001 + 2 * beat, 21 + Math.sin(beat / 6) * 0.3, 44),
      ]).catch(() => undefined);
    }, 500);
    const page = await browser.newPage({ viewport: { width: 1360, height: 520 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (err) => problems.push(String(err)));

    // / redirects to the dashboard, which asks for the token (the hub has one).
    await page.goto(`${url}/`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/');
    await page.locator('#token-dialog input').fill(TOKEN);
    await page.locator('#token-dialog input').press('Enter');
    await page.locator('#fleet tbody tr').first().waitFor({ timeout: 15_000 });
    // Before the token, the API's 401s show up as failed loads; nothing else may.
    expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
    problems.length = 0;

    // The fleet: four devices, boiler-room anomalous (its episode is still open).
    const rows = page.locator('#fleet tbody tr');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(4);
    expect(
      await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-device'))),
    ).toEqual(['boiler-room', 'cold-store', 'greenhouse-1', 'office-2']);
    expect(
      await page.locator('#fleet tr[data-device="boiler-room"]').getAttribute('data-status'),
    ).toBe('anomalous');
    expect(
      await page.locator('#fleet tr[data-device="office-2"]').getAttribute('data-status'),
    ).toBe('ok');
    // The anomaly list: the closed greenhouse episode and the open boiler one.
    await page.locator('#latest-anomalies tr[data-device="greenhouse-1"]').waitFor();
    await page.locator('#latest-anomalies tr[data-device="boiler-room"]').waitFor();
    // Pipeline health over the stream: throughput after two samples, the gateway's backlog.
    await page.locator('body[data-stream="live"]').waitFor();
    await expect
      .poll(() => page.locator('#throughput').textContent(), { timeout: 15_000 })
      .not.toBe('–');
    expect(await page.locator('#backlog').textContent()).toBe('37');

    // Live, without a reload: an anomaly on cold-store and a device never seen before.
    await page.evaluate(() => {
      (globalThis as { notReloaded?: boolean }).notReloaded = true;
    });
    const now = Date.now();
    await publish([
      reading('cold-store', now, 10_001, 55, 80),
      reading('new-sensor', now, 10_002, 20, 50),
    ]);
    await page
      .locator('#latest-anomalies tr[data-device="cold-store"]')
      .waitFor({ timeout: 15_000 });
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(5);
    await expect
      .poll(() => page.locator('#fleet tr[data-device="cold-store"]').getAttribute('data-status'))
      .toBe('anomalous');
    // The throughput sparkline has a few samples (one every 2 s).
    await expect
      .poll(() => page.locator('#health .spark polyline').getAttribute('points'), {
        timeout: 15_000,
      })
      .toMatch(/^(\S+ ){3,}\S+$/);
    const overviewShot = await shoot(page, 'dashboard-overview');

    // A device page: a chart per metric, drawn, with the spike's episode as a band.
    await page.locator('#fleet a[href="#/device/greenhouse-1"]').click();
    const temperature = page.locator('.chart[data-metric="temperature"]');
    await expect
      .poll(() => temperature.getAttribute('data-points'), { timeout: 15_000 })
      .toBe('120');
    await expect.poll(() => temperature.getAttribute('data-bands')).toBe('1');
    await page.locator('.chart[data-metric="humidity"]').waitFor();
    const inked = await temperature.locator('canvas').evaluate((c) => {
      const canvas = c as unknown as CanvasLike;
      const px = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; px && i < px.length; i += 4) if ((px[i] ?? 0) > 0) n += 1;
      return n;
    });
    expect(inked, 'pixels drawn on the temperature chart').toBeGreaterThan(2000);
    // A band's colour (the closed critical episode) is on the canvas.
    expect(await page.locator('#device-anomalies tr').count()).toBeGreaterThanOrEqual(2);

    // A new reading arrives on the chart over the stream.
    await page.locator('body[data-stream="live"][data-stream-devices="greenhouse-1"]').waitFor();
    await publish([reading('greenhouse-1', Date.now(), 10_003, 23.45, 61)]);
    await expect
      .poll(() => temperature.getAttribute('data-points'), { timeout: 15_000 })
      .toBe('121');
    expect(await temperature.locator('.chart-last').textContent()).toBe('23.45 Cel');
    const deviceShot = await shoot(page, 'dashboard-device');

    // The anomaly list page.
    await page.locator('nav a[href="#/anomalies"]').click();
    await expect
      .poll(() => page.locator('#all-anomalies tbody tr').count())
      .toBeGreaterThanOrEqual(3);
    await shoot(page, 'dashboard-anomalies');

    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    );
    expect(problems).toEqual([]);
    // The OpenAPI UI is where it was.
    expect((await fetch(`${url}/docs/json`)).status).toBe(200);
    clearInterval(trickle);
    await sending;
    // The hub stops cleanly with the page's stream still open.
    expect(await hub.stop('SIGTERM', 10_000)).toBe(0);
    // DASHBOARD_SCREENSHOTS=docs refreshes the README's pictures.
    if (process.env.DASHBOARD_SCREENSHOTS === 'docs') {
      const docs = join(REPO_ROOT, 'docs', 'screenshots');
      mkdirSync(docs, { recursive: true });
      copyFileSync(overviewShot, join(docs, 'dashboard.png'));
      copyFileSync(deviceShot, join(docs, 'dashboard-device.png'));
    }
  });
});
