// The replay file: a header `timestamp,value` or `timestamp,<metric1>,<metric2>,...`, then one
// reading per line. Fields may be double-quoted (RFC 4180, "" inside quotes); a field cannot
// span lines. Parsing never throws: a bad line gives a reason, and the caller names the line.

import { type Parsed, splitCsvLine as splitFields } from '@iot-stream/contracts';
import { parseTimestamp } from '../time-text.ts';

export interface CsvHeader {
  columns: number;
  timestampIndex: number;
  /** Column index and metric name of every value column, in file order. */
  metrics: Array<{ index: number; name: string }>;
}

export interface CsvRow {
  time: number;
  /** metric name -> value; an empty cell is a missing reading. */
  values: Record<string, number>;
}

/** Fields trimmed: replay files are often hand-edited. */
export function splitCsvLine(line: string): Parsed<{ fields: string[] }> {
  const split = splitFields(line);
  return split.ok ? { ok: true, fields: split.fields.map((f) => f.trim()) } : split;
}

const METRIC_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** `value` is renamed to `valueName` (the `--metric` flag). */
export function parseHeader(line: string, valueName = 'value'): Parsed<{ header: CsvHeader }> {
  const split = splitCsvLine(line.replace(/^\uFEFF/, ''));
  if (!split.ok) return split;
  const names = split.fields.map((f) => f.toLowerCase());
  const timestampIndex = names.findIndex((n) => n === 'timestamp' || n === 'time');
  if (timestampIndex < 0 || split.fields.length < 2) {
    return {
      ok: false,
      error: `expected a header timestamp,value or timestamp,<metric>,...; got "${line.slice(0, 80)}"`,
    };
  }
  const metrics: CsvHeader['metrics'] = [];
  for (const [index, field] of split.fields.entries()) {
    if (index === timestampIndex) continue;
    const name = field.toLowerCase() === 'value' ? valueName : field;
    if (!METRIC_NAME.test(name)) {
      return {
        ok: false,
        error: `column ${index + 1}: metric name "${name}" is not 1..64 of [A-Za-z0-9._-]`,
      };
    }
    if (metrics.some((m) => m.name === name)) {
      return { ok: false, error: `column ${index + 1}: metric "${name}" appears twice` };
    }
    metrics.push({ index, name });
  }
  return { ok: true, header: { columns: split.fields.length, timestampIndex, metrics } };
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

export function parseRow(line: string, header: CsvHeader): Parsed<{ row: CsvRow }> {
  const split = splitCsvLine(line);
  if (!split.ok) return split;
  const { fields } = split;
  if (fields.length !== header.columns) {
    return { ok: false, error: `expected ${header.columns} fields, got ${fields.length}` };
  }
  const ts = fields[header.timestampIndex] as string;
  const time = parseTimestamp(ts);
  if (time === undefined) {
    return {
      ok: false,
      error: `timestamp "${ts}" is neither ISO-8601 (e.g. 2026-11-22T12:00:00Z) nor epoch milliseconds`,
    };
  }
  const values: Record<string, number> = {};
  for (const { index, name } of header.metrics) {
    const text = fields[index] as string;
    if (text === '') continue;
    const value = Number(text);
    if (!NUMBER.test(text) || !Number.isFinite(value)) {
      return { ok: false, error: `${name}: "${text}" is not a finite number` };
    }
    values[name] = value;
  }
  if (Object.keys(values).length === 0) return { ok: false, error: 'no values in this line' };
  return { ok: true, row: { time, values } };
}
