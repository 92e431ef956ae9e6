/**
 * Just enough InfluxQL reading for the dashboard checks: the outer SELECT's columns, the outer
 * GROUP BY tags, the measurements a query reads, and the identifiers it names. Not a parser:
 * it splits on parentheses depth and quotes, which is what the dashboards' queries need.
 */

/** The text at parenthesis depth 0 (subqueries and function arguments blanked out). */
export function depthZero(query: string): string {
  let depth = 0;
  let out = '';
  let quote: string | null = null;
  for (const ch of query) {
    if (quote) {
      if (ch === quote) quote = null;
      out += depth === 0 ? ch : ' ';
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    if (ch === '(') depth += 1;
    out += depth === 0 ? ch : ' ';
    if (ch === ')') depth -= 1;
  }
  return out;
}

/** Splits on commas at parenthesis depth 0, outside quotes. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let current = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(') depth += 1;
    else if (ch === ')') depth -= 1;
    else if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

/**
 * The column names InfluxDB returns for the outer SELECT (after `time`): an alias, a bare
 * field or tag, or the function's name.
 */
export function selectedColumns(query: string): string[] {
  const flat = depthZero(query);
  const select = /^\s*SELECT\s/i.exec(flat);
  const from = /\sFROM\s/i.exec(flat);
  if (!select || !from) return [];
  const clause = query.slice(select[0].length, from.index);
  return splitTopLevel(clause).map((item) => {
    const alias = /\sAS\s+"([^"]+)"\s*$/i.exec(item);
    if (alias) return alias[1] as string;
    const bare = /^"([^"]+)"$/.exec(item);
    if (bare) return bare[1] as string;
    const fn = /^(\w+)\s*\(/.exec(item);
    return fn ? (fn[1] as string) : item;
  });
}

/** The tag keys of the outer `GROUP BY` (not `time(...)`). */
export function groupByTags(query: string): string[] {
  const flat = depthZero(query);
  const m = /\sGROUP BY\s(.*?)(\sfill|\sORDER|\sLIMIT|\sSLIMIT|$)/i.exec(flat);
  if (!m) return [];
  const start = (m.index ?? 0) + m[0].indexOf(m[1] as string);
  const clause = query.slice(start, start + (m[1] as string).length);
  return splitTopLevel(clause)
    .map((item) => /^"([^"]+)"$/.exec(item)?.[1])
    .filter((t): t is string => t !== undefined);
}

/** Whether the outer query buckets by time. */
export function groupsByTime(query: string): boolean {
  // depthZero keeps `time` and blanks its parenthesised argument
  return /\sGROUP BY\s+time\b/i.test(depthZero(query));
}

/** `"rp"."measurement"` pairs a query reads (SELECT ... FROM and SHOW ... FROM). */
export function measurements(query: string): { rp: string; measurement: string }[] {
  return [...query.matchAll(/FROM\s+"([^"]+)"\."([^"]+)"/gi)].map((m) => ({
    rp: m[1] as string,
    measurement: m[2] as string,
  }));
}

/** Every double-quoted identifier (fields, tags, aliases, measurements). */
export function identifiers(query: string): string[] {
  return [...query.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string);
}

/** Aliases defined anywhere in the query (`AS "x"`), usable by an outer query. */
export function aliases(query: string): string[] {
  return [...query.matchAll(/\sAS\s+"([^"]+)"/gi)].map((m) => m[1] as string);
}
