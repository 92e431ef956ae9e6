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
// no Kafka, no InfluxDB), then one click on the printed dashboard link in a real browser
// (Debian's chromium via playwright-core) shows the simulated fleet, signed in without typing
// the token, with anomalies within a minute. The token form still serves a URL without one.

const data = mkdtempSync(join(tmpdir(), 'iot-first-run-'));
const shots = join(REPO_ROOT, 'test-results', 'screenshots');
let browser: Browser | undefined;
let child: ReturnType<typeof spawn> | undefined;

afterAll(async () => {
  await browser?.close();
  // Ctrl-C first, so npm start stops its hub and gateway rather than leave them running.
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    child.kill('SIGKILL');
  }
  rmSync(data, { recursive: true, force: true });
});

describe('first run: npm start, then the dashboard', () => {
  it('opens signed in from the printed link: a live fleet with anomalies within a minute', {
    timeout: 180_000,
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
        const m = line.match(/Dashboard\s+(http:\/\/\S+\/dashboard\/#token=([0-9a-f]+))\s/);
        if (m) {
          clearTimeout(timer);
          resolve({ url: m[1] as string, token: m[2] as string });
        }
      });
    });

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1360, height: 640 } });
    await page.goto(printed.url);
    // The fleet, signed in by the link alone: the simulator's five devices, no token form.
    await expect.poll(() => page.locator('#fleet tbody tr').count(), { timeout: 30_000 }).toBe(5);
    expect(await page.locator('#token-dialog[open]').count()).toBe(0);
    // The token left the address bar (and this history entry), and stays in the browser only.
    const dashboard = printed.url.slice(0, printed.url.indexOf('#'));
    expect(page.url()).toBe(dashboard);
    const stored = () =>
      (
        globalThis as { localStorage?: { getItem(key: string): string | null } }
      ).localStorage?.getItem('iot-hub-token');
    expect(await page.evaluate(stored)).toBe(printed.token);
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

    // Without the token in the URL (another browser profile): the form, as before.
    const plain = await (await browser.newContext()).newPage();
    await plain.goto(dashboard);
    await plain.locator('#token-dialog input').fill(printed.token);
    await plain.locator('#token-dialog input').press('Enter');
    await expect.poll(() => plain.locator('#fleet tbody tr').count(), { timeout: 30_000 }).toBe(5);
    // A stale link (an earlier run's token): the form says why it is asked for.
    const stale = await (await browser.newContext()).newPage();
    await stale.goto(`${dashboard}#token=0123456789abcdef`);
    await stale.locator('#token-note').waitFor({ state: 'visible', timeout: 15_000 });
    expect(await stale.locator('#token-note').textContent()).toContain("not this hub's");
    expect(stale.url()).toBe(dashboard);
    // The right link, opened in that same tab: signed in, the form gone.
    await stale.evaluate((hash) => {
      (globalThis as unknown as { location: { hash: string } }).location.hash = hash;
    }, `#token=${printed.token}`);
    await expect.poll(() => stale.locator('#fleet tbody tr').count(), { timeout: 30_000 }).toBe(5);
    expect(await stale.locator('#token-dialog[open]').count()).toBe(0);
    expect(stale.url()).toBe(dashboard);

    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child?.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  });
});
