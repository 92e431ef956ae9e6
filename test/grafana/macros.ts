/**
 * Grafana's query interpolation for InfluxQL, reproduced so the dashboards' queries can run
 * against a real InfluxDB without Grafana. Two stages, in Grafana's order:
 *
 * 1. the frontend (`templateSrv.replace(query, scopedVars, 'regex')`): template variables
 *    (`$var`, `${var}`, `${var:format}`, `[[var]]`) and the global `$__from` / `$__to`; values
 *    are regex-escaped, several values become `(a|b)`, "All" becomes every option, or the
 *    variable's custom all value inserted as it is;
 * 2. the backend (`pkg/tsdb/influxdb/models/query.go`, `Build`): `$timeFilter` becomes
 *    `time >= <from>ms and time <= <to>ms`, then `$interval`, `$__interval_ms` and `$__interval`
 *    become the panel's interval.
 *
 * Whatever still starts with `$` afterwards would reach InfluxDB verbatim, where it fails
 * ("missing parameter"); `interpolate` throws instead, naming it.
 */

import { parseDuration } from '@iot-stream/contracts';

export interface TimeRange {
  /** Epoch milliseconds. */
  from: number;
  to: number;
}

/** The "All" option's value, as Grafana stores it in `current`. */
export const ALL = '$__all';

export interface TemplateVariable {
  name: string;
  /** Selected values; `[ALL]` for "All". */
  current: readonly string[];
  /** Every value the variable offers (without "All"). */
  options: readonly string[];
  multi: boolean;
  includeAll: boolean;
  /** Custom all value: inserted as it is when "All" is selected (e.g. `.*`). */
  allValue?: string | null | undefined;
}

export interface InterpolationContext {
  range: TimeRange;
  intervalMs: number;
  variables: ReadonlyMap<string, TemplateVariable>;
}

/** Grafana's `rangeutil.roundInterval`: a raw interval snapped to a readable step. */
export function roundInterval(ms: number): number {
  const steps: [number, number][] = [
    [15, 10],
    [35, 20],
    [75, 50],
    [150, 100],
    [350, 200],
    [750, 500],
    [1500, 1000],
    [3500, 2000],
    [7500, 5000],
    [12_500, 10_000],
    [17_500, 15_000],
    [25_000, 20_000],
    [45_000, 30_000],
    [90_000, 60_000],
    [210_000, 120_000],
    [450_000, 300_000],
    [750_000, 600_000],
    [1_050_000, 900_000],
    [1_500_000, 1_200_000],
    [2_700_000, 1_800_000],
    [5_400_000, 3_600_000],
    [9_000_000, 7_200_000],
    [16_200_000, 10_800_000],
    [32_400_000, 21_600_000],
    [86_400_000, 43_200_000],
    [604_800_000, 86_400_000],
    [1_814_400_000, 604_800_000],
    [3_628_800_000, 2_592_000_000],
  ];
  for (const [below, step] of steps) if (ms < below) return step;
  return 31_536_000_000;
}

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** A Grafana interval text (`10s`, `1m`, `500ms`; `>10s` as in a panel's min interval) in ms. */
export function durationToMs(text: string): number {
  const t = text.trim().replace(/^>\s*/, '');
  const years = /^(\d+(?:\.\d+)?)y$/.exec(t); // Grafana's only unit beyond contracts' grammar
  const ms = years ? Number(years[1]) * (UNIT_MS.y as number) : parseDuration(t);
  if (ms === undefined || !/^\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y)$/.test(t))
    throw new Error(`not a Grafana interval: "${text}"`);
  return ms;
}

/**
 * Grafana's `calculateInterval`: (to - from) / maxDataPoints, rounded, never below the panel's
 * (or the data source's) minimum interval.
 */
export function intervalMsFor(range: TimeRange, maxDataPoints: number, minInterval?: string) {
  const raw = roundInterval((range.to - range.from) / maxDataPoints);
  return Math.max(raw, minInterval ? durationToMs(minInterval) : 1);
}

/** The backend's `gtime.FormatInterval`: the largest whole unit (`1h`, `20s`, `500ms`). */
export function formatInterval(ms: number): string {
  for (const unit of ['y', 'd', 'h', 'm', 's', 'ms']) {
    const size = UNIT_MS[unit] as number;
    if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  }
  return '1ms';
}

/** `@grafana/data`'s `escapeRegex`. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

type Formatter = (values: readonly string[]) => string;

/** The formats `${var:format}` accepts here; InfluxDB's default is `regex`. */
const FORMATS: Record<string, Formatter> = {
  regex: (v) =>
    v.length === 1 ? escapeRegex(v[0] as string) : `(${v.map(escapeRegex).join('|')})`,
  raw: (v) => v.join(','),
  csv: (v) => v.join(','),
  pipe: (v) => v.join('|'),
  singlequote: (v) => v.map((x) => `'${x.replace(/'/g, "\\'")}'`).join(','),
  doublequote: (v) => v.map((x) => `"${x.replace(/"/g, '\\"')}"`).join(','),
};

// templateSrv's variable pattern: $var | [[var(:format)]] | ${var(.path)(:format)}
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

/** Stage 1: template variables and `$__from` / `$__to`, as Grafana's frontend does. */
export function replaceVariables(
  query: string,
  variables: ReadonlyMap<string, TemplateVariable>,
  range: TimeRange,
): string {
  return query.replace(
    VARIABLE,
    (match, simple?: string, bracket?: string, bracketFmt?: string, braced?: string, ...rest) => {
      const name = simple ?? bracket ?? braced;
      const format = (bracketFmt ?? (rest[1] as string | undefined)) || 'regex';
      if (name === '__from' || name === '__to') {
        if (format !== 'regex') throw new Error(`unsupported format "${format}" for $${name}`);
        return String(name === '__from' ? range.from : range.to);
      }
      const variable = name === undefined ? undefined : variables.get(name);
      if (!variable) return match; // not a variable: left for the backend (or to fail)
      const formatter = FORMATS[format];
      if (!formatter) throw new Error(`unsupported variable format "${format}" in ${match}`);
      const isAll = variable.current.length === 1 && variable.current[0] === ALL;
      if (isAll) {
        if (!variable.includeAll) throw new Error(`$${name} is "All" but includeAll is off`);
        // A custom all value skips formatting (templateSrv: "skip formatting of custom all values").
        if (variable.allValue) return variable.allValue;
        if (variable.options.length === 0) throw new Error(`$${name} has no values for "All"`);
        return formatter(variable.options);
      }
      if (variable.current.length === 0) throw new Error(`$${name} has no value selected`);
      if (variable.current.length > 1 && !variable.multi)
        throw new Error(`$${name} has several values but is not multi-value`);
      return formatter(variable.current);
    },
  );
}

/** Stage 2: the backend's macros, in its order. */
export function replaceMacros(query: string, range: TimeRange, intervalMs: number): string {
  const text = formatInterval(intervalMs);
  return query
    .replaceAll('$timeFilter', `time >= ${range.from}ms and time <= ${range.to}ms`)
    .replaceAll('$interval', text)
    .replaceAll('$__interval_ms', String(Math.floor(intervalMs)))
    .replaceAll('$__interval', text);
}

/** Both stages; throws when a `$name` survives (Grafana would send it to InfluxDB as it is). */
export function interpolate(query: string, ctx: InterpolationContext): string {
  const out = replaceMacros(
    replaceVariables(query, ctx.variables, ctx.range),
    ctx.range,
    ctx.intervalMs,
  );
  const left = unresolved(out);
  if (left.length > 0) throw new Error(`unresolved ${left.join(', ')} in: ${out}`);
  return out;
}

/** `$name` / `${name}` / `[[name]]` tokens outside regex escapes (`\$` is a literal dollar). */
export function unresolved(query: string): string[] {
  const found: string[] = [];
  for (const m of query.matchAll(/(?<!\\)\$\{?\w+\}?|\[\[\w+(?::\w+)?\]\]/g)) found.push(m[0]);
  return found;
}

/** The variable names a query refers to (for dependency order and structural checks). */
export function referencedVariables(query: string): string[] {
  const names = new Set<string>();
  for (const m of query.matchAll(VARIABLE)) {
    const name = m[1] ?? m[2] ?? m[4];
    if (name) names.add(name);
  }
  return [...names];
}
