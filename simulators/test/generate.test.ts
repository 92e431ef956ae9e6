import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestBroker } from './support/broker.ts';
import { BIN, runCli, summaryOf } from './support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'iot-sim-gen-'));
let broker: TestBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

describe('iot-sim generate', () => {
  it('writes CSV rows with a truth column that matches the labels file', async () => {
    const out = join(dir, 'series.csv');
    const labels = join(dir, 'truth.csv');
    const r = await runCli([
      'generate',
      '--devices',
      '2',
      '--profile',
      'climate',
      '--metric',
      'temperature',
      '--interval',
      '1m',
      '--duration',
      '12h',
      '--start',
      '2026-01-05T00:00:00Z',
      '--seed',
      '3',
      '--out',
      out,
      '--labels',
      labels,
      '--anomalies',
      'spike:every=1h;stuck:every=4h,duration=30m',
    ]);
    expect(r.code).toBe(0);
    expect(summaryOf(r)).toMatchObject({
      command: 'generate',
      sent: 1440,
      acknowledged: 1440,
      failed: 0,
    });
    const [header, ...rows] = readFileSync(out, 'utf8').trim().split('\n');
    expect(header).toBe('timestamp,device,metric,value,unit,truth');
    expect(rows).toHaveLength(1440);
    const truth = readFileSync(labels, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    expect(truth.length).toBeGreaterThan(10);
    for (const row of rows) {
      const [time, device, metric, , unit, flag] = row.split(',');
      expect([metric, unit]).toEqual(['temperature', 'Cel']);
      const covering = truth.filter(
        ([d, m, , s, e]) =>
          d === device && m === metric && Number(time) >= Number(s) && Number(time) < Number(e),
      );
      expect(flag).toBe(covering.map((c) => c[2]).join('|'));
    }
    const spikes = truth.filter((t) => t[1] === 'temperature' && t[2] === 'spike');
    expect(rows.filter((r) => /[,|]spike(\||$)/.test(r)).length).toBe(spikes.length);
  });

  it('writes JSON lines to stdout, with the summary on stderr', async () => {
    const r = await runCli([
      'generate',
      '--devices',
      '1',
      '--count',
      '3',
      '--format',
      'jsonl',
      '--profile',
      'power',
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.deviceId, l.seq, Object.keys(l.metrics)])).toEqual([
      ['sim-001', 0, ['power', 'voltage', 'current', 'energy']],
      ['sim-001', 1, ['power', 'voltage', 'current', 'energy']],
      ['sim-001', 2, ['power', 'voltage', 'current', 'energy']],
    ]);
    expect(JSON.parse(r.stderr.trim())).toMatchObject({ sent: 3, acknowledged: 3 });
  });

  it('needs a bound', async () => {
    const r = await runCli(['generate', '--devices', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/generate needs a bound: --count N or --duration D/);
  });
});

describe('Ctrl-C', () => {
  it('stops taking readings, waits for acknowledgements, prints the summary, exits 0', async () => {
    broker = await TestBroker.start();
    const child = spawn(
      process.execPath,
      [BIN, 'mqtt', '--url', broker.url, '--devices', '3', '--interval', '10'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const b = broker;
    for (let i = 0; b.data().length < 30 && i < 500; i += 1)
      await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) =>
      child.once('exit', (c) => resolve(c)),
    );
    expect(code).toBe(0);
    const summary = JSON.parse(stdout.trim());
    expect(summary.sent).toBeGreaterThanOrEqual(30);
    expect(summary).toMatchObject({ acknowledged: summary.sent, failed: 0, inflight: 0 });
    expect(b.data()).toHaveLength(summary.sent);
    const states = await b.retained('iot/v1/+/state');
    expect([...states.values()]).toEqual(['offline', 'offline', 'offline']);
  });
});
