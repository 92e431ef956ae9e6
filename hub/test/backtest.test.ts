import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { backtestCommand } from '../src/backtest/command.ts';
import { parseRow, parseTimestamp, splitCsvLine } from '../src/backtest/csv.ts';
import { synthesize } from './support/synthetic.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function cli(args: string[], input: string) {
  const r = spawnSync(process.execPath, ['hub/bin/iot-hub.js', 'backtest', ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function inProcess(args: string[], input: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks: string[] = [];
  const errors: string[] = [];
  stdout.on('data', (c) => chunks.push(String(c)));
  stderr.on('data', (c) => errors.push(String(c)));
  const code = await backtestCommand(args, { stdin: Readable.from([input]), stdout, stderr });
  return { code, stdout: chunks.join(''), stderr: errors.join('') };
}

/** A minute-by-minute series with spikes; returns the CSV and the spike rows (1-based lines). */
function spikyCsv(seed: number) {
  const signal = synthesize({ seed, anomaly: 'spike', length: 1_500, count: 4 });
  const spikes = new Set(signal.anomalies.map((a) => a.start));
  const lines = ['timestamp,value'];
  const spikeLines: number[] = [];
  for (const p of signal.points) {
    lines.push(`${new Date(p.time).toISOString()},${p.value.toFixed(2)}`);
    if (spikes.has(p.time)) spikeLines.push(lines.length);
  }
  return { csv: `${lines.join('\n')}\n`, spikeLines };
}

describe('iot-hub backtest (subprocess)', { timeout: 60_000 }, () => {
  it('adds anomaly_score and anomaly to every row and marks the spikes', () => {
    const { csv, spikeLines } = spikyCsv(1);
    const r = cli(['--detector', 'zscore'], csv);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout.trimEnd().split('\n');
    const input = csv.trimEnd().split('\n');
    expect(out).toHaveLength(input.length);
    expect(out[0]).toBe('timestamp,value,anomaly_score,anomaly');
    out.slice(1).forEach((line, i) => {
      expect(line.startsWith(`${input[i + 1]},`)).toBe(true);
      const score = Number(line.split(',')[2]);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    });
    const flagged = out.flatMap((line, i) => (line.endsWith(',1') ? [i + 1] : []));
    for (const n of spikeLines) expect(flagged).toContain(n);
    expect(flagged.length).toBeLessThanOrEqual(spikeLines.length + 2);
  });

  it('reports a malformed row on stderr with its line, leaves it unscored and exits 1', () => {
    const csv =
      'timestamp,value\n1763800000000,1\n1763800060000,abc\nnot-a-time,2\n1763800120000,3\n';
    const r = cli(['--detector', 'rate', '--param', 'maxRate=1'], csv);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('line 3: value "abc" is not a finite number; row left unscored');
    expect(r.stderr).toContain('line 4: timestamp "not-a-time" is neither ISO-8601');
    expect(r.stdout).toBe(
      [
        'timestamp,value,anomaly_score,anomaly',
        '1763800000000,1,0,0',
        '1763800060000,abc,,',
        'not-a-time,2,,',
        '1763800120000,3,0.000278,0',
        '',
      ].join('\n'),
    );
  });

  it('uses the rules of a rules file that watch metric "value"', () => {
    const rules = join(ROOT, 'hub', 'test', 'fixtures', 'backtest-rules.yaml');
    const { csv, spikeLines } = spikyCsv(2);
    const r = cli(['--rules', rules, '--episodes'], csv);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout.trimEnd().split('\n');
    for (const n of spikeLines) expect(out[n - 1]?.endsWith(',1')).toBe(true);
  });

  it('prints its help', () => {
    const help = cli(['--help'], '');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: iot-hub backtest/);
    expect(help.stdout).toMatch(/robust-zscore/);
  });
});

describe('backtest command (in process)', () => {
  it('explains usage errors and exits 2', async () => {
    const both = await inProcess(
      ['--detector', 'zscore', '--rules', 'r.yaml'],
      'timestamp,value\n',
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/give one of --detector NAME or --rules FILE, not both/);
    const bad = await inProcess(['--detector', 'zscore', '--param', 'threshold=-1'], '');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/params.threshold: Expected number to be greater than 0/);
  });

  it('scores with the default detector (novelty) when given neither --detector nor --rules', async () => {
    const rows = Array.from(
      { length: 400 },
      (_, i) =>
        `${new Date(Date.UTC(2026, 10, 22) + i * 60_000).toISOString()},${i === 350 ? 90 : 20 + Math.sin(i / 7)}`,
    );
    const r = await inProcess([], `timestamp,value\n${rows.join('\n')}\n`);
    expect(r.code).toBe(0);
    const scores = r.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(',')[2]));
    expect(scores).toHaveLength(400);
    expect(scores[350]).toBeGreaterThanOrEqual(0.5); // the spike
    expect(scores.filter((s) => s >= 0.5)).toHaveLength(1);
  });

  it('rejects input without the timestamp,value header', async () => {
    const r = await inProcess(['--detector', 'zscore'], 'time,reading\n1,2\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line 1: expected a header with the columns timestamp,value/);
    expect(r.stdout).toBe('');
  });

  it('keeps extra columns, takes CRLF, skips blank lines, and does not score rows out of order', async () => {
    const input =
      'id,Value,timestamp\r\n1,5,2026-11-22T00:00:00Z\r\n\r\n2,5,2026-11-22T00:01:00Z\r\n3,5,2026-11-21T23:59:00Z\r\n';
    const r = await inProcess(['--detector', 'flatline', '--param', 'minCount=2'], input);
    expect(r.stdout.split('\n')).toEqual([
      'id,Value,timestamp,anomaly_score,anomaly',
      '1,5,2026-11-22T00:00:00Z,0,0',
      '2,5,2026-11-22T00:01:00Z,0.5,1',
      '3,5,2026-11-21T23:59:00Z,,',
      '',
    ]);
    expect(r.stderr).toMatch(/line 5: timestamp is earlier than a previous row's; not scored/);
    expect(r.code).toBe(0);
  });

  it('streams a large input', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => `${1763800000000 + i * 1000},${i % 7}`);
    const r = await inProcess(['--detector', 'zscore'], `timestamp,value\n${rows.join('\n')}\n`);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toHaveLength(20_002);
  });
});

describe('backtest CSV parsing', () => {
  it('splits quoted fields', () => {
    expect(splitCsvLine('a,"b,c","d""e",')).toEqual({ ok: true, fields: ['a', 'b,c', 'd"e', ''] });
    expect(splitCsvLine('"open')).toEqual({ ok: false, error: 'unterminated quoted field' });
  });

  it('reads ISO-8601 (UTC without an offset) and epoch milliseconds', () => {
    const t = Date.UTC(2026, 10, 22, 12, 0, 0);
    expect(parseTimestamp('2026-11-22T12:00:00Z')).toBe(t);
    expect(parseTimestamp('2026-11-22T12:00:00')).toBe(t);
    expect(parseTimestamp('2026-11-22 12:00')).toBe(t);
    expect(parseTimestamp('2026-11-22T13:00:00+01:00')).toBe(t);
    expect(parseTimestamp('2026-11-22T13:00:00+0100')).toBe(t);
    expect(parseTimestamp('2026-11-22T12:00:00.123456Z')).toBe(t + 123);
    expect(parseTimestamp('2026-11-22')).toBe(Date.UTC(2026, 10, 22));
    expect(parseTimestamp(String(t))).toBe(t);
    for (const bad of ['', 'yesterday', '-5', '1.5', '2026-13-45T00:00:00Z', '2026-11-22T12']) {
      expect(parseTimestamp(bad)).toBeUndefined();
    }
  });

  it('accepts plain decimal numbers only as values', () => {
    const header = { columns: 2, timestampIndex: 0, valueIndex: 1 };
    expect(parseRow('0, -1.5e3 ', header)).toEqual({ ok: true, time: 0, value: -1500 });
    for (const bad of ['0,', '0,NaN', '0,Infinity', '0,0x10', '0,1,2']) {
      expect(parseRow(bad, header).ok).toBe(false);
    }
  });
});
