import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/lib/app-process.ts';
import { CHROMIUM, launchChromium } from '../support/browser.ts';

// Issue 6's first-run promise, literally: `npm start` with nothing installed (single-box mode,
// no Kafka, no InfluxDB), then the printed dashboard URL and token in a real browser (Debian's
// chromium via playwright-core) show the simulated fleet with anomalies within a minute.

const data = mkdtempSync(join(tmpdir(), 'iot-first-run-'));
const shots = join(REPO_ROOT, 'test-results', 'screenshots');
let browser: Browser | undefined;
let child: ReturnType<typeof spawn> | undefined;

afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(data, { recursive: true, force: true });
});

describe('first run: npm start, then the dashboard', () => {
  it('shows a live fleet with anomalies within a minute, with no service installed', {
    timeout: 150_000,
  }, async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install chromium`).toBe(true);
    const { KAFKA_BROKERS: _k, INFLUX_URL: _i, ...env } = process.env;
    const started = Date.now();
    child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--data', data], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) =>
      output.push(l),
    );
    const printed = await new Promise<{ url: string; token: string }>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no dashboard URL:\n${output.join('\n')}`)),
        60_000,
      );
      createInterface({ input: child?.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        output.push(line);
        const m = line.match(/Dashboard\s+(http:\/\/\S+)\s+\(API token: ([0-9a-f]+)\)/);
        if (m) {
          clearTimeout(timer);
          resolve({ url: m[1] as string, token: m[2] as string });
        }
      });
    });

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1360, height: 640 } });
    await page.goto(printed.url);
    await page.locator('#token-dialog input').fill(printed.token);
    await page.locator('#token-dialog input').press('Enter');
    // The fleet: the simulator's five devices.
    await expect.poll(() => page.locator('#fleet tbody tr').count(), { timeout: 30_000 }).toBe(5);
    // Anomalies: the injected spikes show up in the list (without a reload) and mark devices.
    await page.locator('#latest-anomalies tbody tr').first().waitFor({ timeout: 90_000 });
    const seconds = (Date.now() - started) / 1000;
    await expect
      .poll(() => page.locator('#fleet tr[data-status="anomalous"]').count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    // The pipeline tile names single-box mode, not a "down" Kafka.
    await expect
      .poll(() => page.locator('.tile-sub').first().textContent(), { timeout: 10_000 })
      .toBe('single-box: HTTP ingest · SQLite ok');
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'first-run.png'), fullPage: true });
    console.log(
      `first run: fleet and anomalies in the browser ${seconds.toFixed(0)} s after npm start`,
    );
    expect(seconds, 'anomalies within about a minute of npm start').toBeLessThan(90);

    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child?.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  });
});
