/** A parse result that never throws: the value, or an error that says what is wrong. */
export type Parsed<T> = ({ ok: true } & T) | { ok: false; error: string };

/**
 * Splits one CSV line into fields (RFC 4180 quoting: double quotes, "" inside quotes; a field
 * cannot span lines). Fields are returned as written, without trimming.
 */
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
