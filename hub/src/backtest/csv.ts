/**
 * The backtest's CSV: a header naming at least `timestamp` and `value` (any order, other
 * columns kept as they are), then one reading per line. Fields may be double-quoted (RFC 4180,
 * "" inside quotes), but a field cannot span lines. Parsing never throws: a bad line gives an
 * error that says what is wrong, and the caller names the line.
 */

export type Parsed<T> = ({ ok: true } & T) | { ok: false; error: string };

export interface CsvHeader {
  columns: number;
  timestampIndex: number;
  valueIndex: number;
}

export function splitCsvLine(line: string): Parsed<{ fields: string[] }> {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i += 1;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return { ok: false, error: 'unterminated quoted field' };
        field += line.slice(i, q);
        if (line[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      if (i < line.length && line[i] !== ',') {
        return { ok: false, error: `unexpected character after a quoted field at column ${i + 1}` };
      }
    } else {
      const comma = line.indexOf(',', i);
      field = line.slice(i, comma < 0 ? line.length : comma);
      i = comma < 0 ? line.length : comma;
    }
    fields.push(field);
    if (i >= line.length) return { ok: true, fields };
    i += 1; // the comma
  }
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

const ISO =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/** Epoch milliseconds (digits only) or ISO-8601; a date-time without an offset is UTC. */
export function parseTimestamp(text: string): number | undefined {
  if (/^\d{1,16}$/.test(text)) return Number(text);
  const m = ISO.exec(text);
  if (!m) return undefined;
  let iso = text.toUpperCase().replace(' ', 'T');
  if (iso.includes('T')) {
    if (m[1] === undefined) iso += 'Z';
    iso = iso.replace(/([+-]\d{2})(\d{2})$/, '$1:$2').replace(/([+-]\d{2})$/, '$1:00');
    iso = iso.replace(/(\.\d{3})\d+/, '$1'); // Date.parse takes milliseconds at most
  }
  const time = Date.parse(iso);
  return Number.isFinite(time) && time >= 0 ? time : undefined;
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

export function parseValue(text: string): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
