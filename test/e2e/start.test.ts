import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/lib/app-process.ts';

// `npm start` (scripts/start.ts), in single-box mode (nothing installed: no Kafka, no InfluxDB)
// and against the suite's Kafka and InfluxDB: it must say where to look, the query it prints
// must return readings, the dashboard must answer, and Ctrl-C must stop everything cleanly.
const MODES = [
  { mode: 'single-box', env: () => ({}), anomalies: true },
  {
    mode: 'Kafka + InfluxDB',
    env: () => ({
      KAFKA_BROKERS: inject('kafkaBrokers').join(','),
      INFLUX_URL: inject('influxUrl'),
      INFLUX_DATABASE: `start_${Date.now()}`,
    }),
    anomalies: false,
  },
];

describe.each(MODES)('npm start ($mode)', ({ env, anomalies }) => {
  it('shows readings flowing and stops cleanly on Ctrl-C', { timeout: 180_000 }, async () => {
    const data = mkdtempSync(join(tmpdir(), 'iot-start-'));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/start.ts', '--data', data, '--interval', '200'],
      {
        cwd: REPO_ROOT,
        env: { ...withoutServices(process.env), ...env() },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const output: string[] = [];
    createInterface({ input: child.stderr }).on('line', (l) => output.push(l));
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    try {
      const flowing = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no "Readings are flowing" within 90 s:\n${output.join('\n')}`)),
          90_000,
        );
        createInterface({ input: child.stdout }).on('line', (line) => {
          output.push(line);
          if (line.startsWith('Readings are flowing')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      await flowing;
      const printed = output
        .join('\n')
        .match(/curl -H 'Authorization: Bearer ([0-9a-f]+)' '(http:\/\/[^']+\/readings)'/);
      expect(printed, output.join('\n')).not.toBeNull();
      const headers = { authorization: `Bearer ${printed?.[1]}` };
      const body = (await (await fetch(printed?.[2] as string, { headers })).json()) as {
        count: number;
      };
      expect(body.count).toBeGreaterThan(0);
      expect(output.join('\n')).toContain('/api/health');
      // The dashboard link signs in: this hub (the port in use), the token in the fragment.
      const dashboard = output.join('\n').match(/Dashboard\s+(http:\/\/\S+)/)?.[1];
      const hub = new URL(printed?.[2] as string).origin;
      expect(dashboard).toBe(`${hub}/dashboard/#token=${printed?.[1]}`);
      expect((await fetch(dashboard as string)).status).toBe(200);
      if (anomalies) {
        // The first-run promise: injected anomalies show up within about a minute.
        const url = `${new URL(dashboard as string).origin}/api/anomalies`;
        let count = 0;
        for (let i = 0; i < 90 && count === 0; i += 1) {
          await new Promise((r) => setTimeout(r, 1000));
          count = ((await (await fetch(url, { headers })).json()) as { count: number }).count;
        }
        expect(count, 'anomaly episodes within 90 s of start').toBeGreaterThan(0);
      }

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      const text = output.join('\n');
      expect(text).toMatch(/gateway stopped \(exit 0\)/);
      expect(text).toMatch(/hub stopped \(exit 0\)/);
      expect(text).toContain('All stopped.');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
    }
  });
});

/** The dev shell may point at running services; each mode sets what it wants. */
function withoutServices(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { KAFKA_BROKERS: _k, INFLUX_URL: _i, ...rest } = env;
  return rest;
}
