import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PtyPair } from '../../test/support/pty.ts';
import { parseHeader, parseRow, splitCsvLine } from '../src/replay/csv.ts';
import { TestBroker } from './support/broker.ts';
import { runCli, summaryOf } from './support/cli.ts';
import { TestGateway } from './support/test-gateway.ts';

const dir = mkdtempSync(join(tmpdir(), 'replay-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const T0 = Date.UTC(2026, 2, 1, 12);

let broker: TestBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

describe('replay CSV parsing', () => {
  it('reads the header forms and rows, quoted fields, ISO and epoch timestamps', () => {
    const h = parseHeader('timestamp,value', 'level');
    expect(h).toEqual({
      ok: true,
      header: { columns: 2, timestampIndex: 0, metrics: [{ index: 1, name: 'level' }] },
    });
    const multi = parseHeader('\uFEFFtemperature,"timestamp",humidity');
    expect(multi.ok && multi.header.metrics.map((m) => m.name)).toEqual([
      'temperature',
      'humidity',
    ]);
    if (!multi.ok) return;
    expect(parseRow('21.5,2026-03-01T12:00:00Z,40', multi.header)).toEqual({
      ok: true,
      row: { time: T0, values: { temperature: 21.5, humidity: 40 } },
    });
    expect(parseRow(`"21.5",${T0 + 5},`, multi.header)).toEqual({
      ok: true,
      row: { time: T0 + 5, values: { temperature: 21.5 } },
    });
    expect(splitCsvLine('"a ""b""",c')).toEqual({ ok: true, fields: ['a "b"', 'c'] });
  });

  it.each([
    ['temperature,humidity', /expected a header timestamp,value/],
    ['timestamp,temp erature', /column 2: metric name "temp erature"/],
    ['timestamp,a,a', /metric "a" appears twice/],
  ])('rejects the header %s', (line, message) => {
    const r = parseHeader(line);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });

  it.each([
    ['yesterday,1', /timestamp "yesterday" is neither ISO-8601/],
    ['2026-03-01T12:00:00Z,abc', /value: "abc" is not a finite number/],
    ['2026-03-01T12:00:00Z', /expected 2 fields, got 1/],
    ['2026-03-01T12:00:00Z,', /no values in this line/],
    ['"2026,1', /unterminated quoted field/],
  ])('rejects the row %s', (line, message) => {
    const h = parseHeader('timestamp,value');
    if (!h.ok) throw new Error('header');
    const r = parseRow(line, h.header);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});

describe('iot-sim replay', () => {
  it('sends each line as a reading at its timestamp; a malformed line is named, skipped, counted', async () => {
    broker = await TestBroker.start();
    const csv = file(
      'level.csv',
      `timestamp,value\n2026-03-01T12:00:00Z,1.5\n${T0 + 1000},2.25\n2026-03-01T12:00:02Z,oops\n\n2026-03-01T12:00:03.5Z,-4\n`,
    );
    const r = await runCli([
      'replay',
      '--csv',
      csv,
      '--device',
      'tank-7',
      '--metric',
      'level',
      '--unit',
      'm',
      '--url',
      broker.url,
      '--as-fast-as-possible',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `iot-sim replay: ${csv}:4: level: "oops" is not a finite number (skipped)\n`,
    );
    expect(summaryOf(r)).toMatchObject({
      sent: 3,
      acknowledged: 3,
      failed: 0,
      rows: 3,
      malformed: 1,
    });
    expect(broker.data('tank-7').map((d) => [d.seq, d.time, d.metrics])).toEqual([
      [0, T0, { level: { value: 1.5, unit: 'm' } }],
      [1, T0 + 1000, { level: { value: 2.25, unit: 'm' } }],
      [2, T0 + 3500, { level: { value: -4, unit: 'm' } }],
    ]);
  });

  it('replays several metrics per line; an empty cell is a missing reading', async () => {
    broker = await TestBroker.start();
    const csv = file(
      'multi.csv',
      `timestamp,temperature,humidity\n${T0},21.5,40\n${T0 + 60_000},,41\n`,
    );
    const r = await runCli([
      'replay',
      '--csv',
      csv,
      '--device',
      'room-1',
      '--unit',
      'temperature=Cel,humidity=%RH',
      '--url',
      broker.url,
      '--as-fast-as-possible',
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    expect(broker.data('room-1').map((d) => d.metrics)).toEqual([
      { temperature: { value: 21.5, unit: 'Cel' }, humidity: { value: 40, unit: '%RH' } },
      { humidity: { value: 41, unit: '%RH' } },
    ]);
  });

  it('paces by the timestamps divided by --speed, and can stamp the readings now', async () => {
    broker = await TestBroker.start();
    const lines = Array.from({ length: 5 }, (_, i) => `${T0 + i * 1000},${i}`).join('\n');
    const csv = file('paced.csv', `timestamp,value\n${lines}\n`);
    const before = Date.now();
    const r = await runCli([
      'replay',
      '--csv',
      csv,
      '--device',
      'p-1',
      '--url',
      broker.url,
      '--speed',
      '10',
      '--retime',
    ]);
    const took = Date.now() - before;
    expect(r.code).toBe(0);
    expect(took).toBeGreaterThanOrEqual(380);
    const times = broker.data('p-1').map((d) => d.time as number);
    expect(times[0]).toBeGreaterThanOrEqual(before);
    expect(times.map((t) => t - (times[0] as number))).toEqual([0, 1000, 2000, 3000, 4000]);
  });

  it('injects anomalies into a replayed file and writes their ground truth', async () => {
    broker = await TestBroker.start();
    const lines = Array.from({ length: 10 }, (_, i) => `${T0 + i * 1000},10`).join('\n');
    const csv = file('flat.csv', `timestamp,value\n${lines}\n`);
    const labels = join(dir, 'truth.csv');
    const r = await runCli([
      'replay',
      '--csv',
      csv,
      '--device',
      'f-1',
      '--url',
      broker.url,
      '--as-fast-as-possible',
      '--anomalies',
      'level-shift:at=3s,duration=4s,magnitude=2.5',
      '--labels',
      labels,
    ]);
    expect(r.code).toBe(0);
    expect(
      broker.data('f-1').map((d) => (d.metrics as Record<string, { value: number }>).value?.value),
    ).toEqual([10, 10, 10, 12.5, 12.5, 12.5, 12.5, 10, 10, 10]);
    expect(readFileSync(labels, 'utf8')).toBe(
      `device,metric,type,start,end\nf-1,value,level-shift,${T0 + 3000},${T0 + 7000}\n`,
    );
  });

  it('replays over a serial line with the given scale', async () => {
    const pty = await new PtyPair().start();
    const gw = new TestGateway(pty.gateway);
    try {
      const csv = file('serial.csv', `timestamp,value\n${T0},21.57\n${T0 + 1000},21.6\n`);
      const r = await runCli([
        'replay',
        '--csv',
        csv,
        '--device',
        's-1',
        '--serial',
        pty.device,
        '--scale=-2',
        '--unit',
        'Cel',
        '--metric',
        'temperature',
        '--as-fast-as-possible',
      ]);
      expect(r.code).toBe(0);
      expect(gw.frames.map((f) => f.frame.type)).toEqual(['hello', 'describe', 'data', 'data']);
      expect(gw.frames[1]?.frame.body).toEqual({
        sensors: [{ alias: 1, name: 'temperature', unit: 'Cel', scale: -2 }],
      });
      expect(gw.data().map((d) => d.frame.body)).toEqual([
        { uptime: 0, time: T0, readings: [[1, 2157]] },
        { uptime: 1000, time: T0 + 1000, readings: [[1, 2160]] },
      ]);
    } finally {
      gw.close();
      await pty.stop();
    }
  });

  it('refuses a file without a usable header', async () => {
    const csv = file('bad.csv', 'when,what\n1,2\n');
    const r = await runCli([
      'replay',
      '--csv',
      csv,
      '--device',
      'x',
      '--url',
      'mqtt://127.0.0.1:1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad.csv:1: expected a header timestamp,value .* \[CSV_INVALID\]/);
  });
});
