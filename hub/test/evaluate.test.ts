import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { evaluateCommand } from '../src/backtest/evaluate-command.ts';
import { mulberry32 } from './support/synthetic.ts';

// `iot-hub evaluate`: rules scored against labelled incidents, as a user checks them against
// their own past incidents.

async function run(args: string[], input: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c) => out.push(String(c)));
  stderr.on('data', (c) => err.push(String(c)));
  const code = await evaluateCommand(args, { stdin: Readable.from([input]), stdout, stderr });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** 3,000 readings a minute apart: noise, a level shift (labelled) and a spike (not labelled). */
function labelled(from = 1500, to = 1600): string {
  const rnd = mulberry32(9);
  const rows = ['timestamp,value,label'];
  for (let i = 0; i < 3000; i += 1) {
    const incident = i >= from && i < to;
    const v = (i >= 1500 && i < 1600 ? 25 : 0) + (i === 2800 ? 40 : 0) + rnd() - 0.5;
    rows.push(
      `${new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString()},${v},${incident ? 1 : 0}`,
    );
  }
  return `${rows.join('\n')}\n`;
}

describe('iot-hub evaluate', () => {
  it('reports incidents caught, how early, and false alerts per 1,000 readings (default detector)', async () => {
    const r = await run(['--json'], labelled());
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      rules: 'novelty (novelty)',
      readings: 3000,
      labelled: 100,
      caught: 1,
      alerts: 2,
      falseAlerts: 1, // the unlabelled spike
    });
    expect(report.falseAlertsPer1000).toBeCloseTo(1 / 3, 5);
    expect(report.delays[0].readings).toBeLessThan(5);
    expect(report.incidents[0]).toMatchObject({ firstRow: 1500, lastRow: 1599 });
  });

  it('prints a readable report, counts a late alert with --grace, and misses with a blind rule', async () => {
    const text = await run([], labelled());
    expect(text.stdout).toMatch(/incidents caught {2}1 of 1 \(100%\)/);
    expect(text.stdout).toMatch(
      /alerts {12}2: 1 during incidents, 1 false \(0\.33 per 1,000 readings\)/,
    );
    // Labelled just before the shift: the alert comes 1 reading after the incident ends.
    const early = labelled(1490, 1500);
    expect((await run([], early)).stdout).toMatch(/incidents caught {2}0 of 1/);
    expect((await run(['--grace', '1'], early)).stdout).toMatch(/incidents caught {2}1 of 1/);
    const blind = await run(
      ['--detector', 'range', '--param', 'min=-100', '--param', 'max=100'],
      labelled(),
    );
    expect(blind.stdout).toMatch(/incidents caught {2}0 of 1 \(0%\)/);
    expect(blind.stdout).toMatch(/missed/);
  });

  it('refuses input without a label column, and bad labels, with a line number', async () => {
    expect((await run([], 'timestamp,value\n1,2\n')).code).toBe(1);
    const bad = await run([], 'timestamp,value,label\n2026-11-01T00:00:00Z,1,yes\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/line 2: label "yes" is neither 0 nor 1/);
    expect((await run(['--grace', '-1'], '')).code).toBe(2);
  });

  it('is a subcommand of iot-hub', () => {
    const r = spawnSync(process.execPath, ['hub/bin/iot-hub.js', 'evaluate', '--help'], {
      cwd: join(import.meta.dirname, '..', '..'),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: iot-hub evaluate/);
  });
});
