/**
 * The backtest's CSV: a header naming at least `timestamp` and `value` (any order, other
 * columns kept as they are), then one reading per line. Fields may be double-quoted (RFC 4180,
 * "" inside quotes), but a field cannot span lines. Parsing never throws: a bad line gives an
 * error that says what is wrong, and the caller names the line.
 */
import { type Parsed, parseTimestamp as parseTime, splitCsvLine } from '@iot-stream/contracts';

export { type Parsed, splitCsvLine };

export interface CsvHeader {
  columns: number;
  timestampIndex: number;
  valueIndex: number;
}

export function parseHeader(line: string): Parsed<{ header: CsvHeader }> {
  const split = splitCsvLine(line.replace(/^\uFEFF/, ''));
  if (!split.ok) return split;
  const names = split.fields.map((f) => f.trim().toLowerCase());
  const timestampIndex = names.indexOf('timestamp');
  const valueIndex = names.indexOf('value');
  if (timestampIndex < 0 || valueIndex < 0) {
    return {
      ok: false,
      error: `expected a header with the columns timestamp,value; got "${line.slice(0, 80)}"`,
    };
  }
  return { ok: true, header: { columns: names.length, timestampIndex, valueIndex } };
}

export function parseRow(line: string, header: CsvHeader): Parsed<{ time: number; value: number }> {
  const split = splitCsvLine(line);
  if (!split.ok) return split;
  const { fields } = split;
  if (fields.length !== header.columns) {
    return { ok: false, error: `expected ${header.columns} fields, got ${fields.length}` };
  }
  const ts = (fields[header.timestampIndex] as string).trim();
  const time = parseTimestamp(ts);
  if (time === undefined) {
    return {
      ok: false,
      error: `timestamp "${ts}" is neither ISO-8601 (e.g. 2026-11-22T12:00:00Z) nor epoch milliseconds`,
    };
  }
  const text = (fields[header.valueIndex] as string).trim();
  const value = parseValue(text);
  if (value === undefined) return { ok: false, error: `value "${text}" is not a finite number` };
  return { ok: true, time, value };
}

/** Epoch milliseconds (digits only) or ISO-8601; a date-time without an offset is UTC. */
export function parseTimestamp(text: string): number | undefined {
  return parseTime(text, { min: 0 });
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

export function parseValue(text: string): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
