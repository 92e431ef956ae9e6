import {
  allPanels,
  annotationsOf,
  currentValues,
  customValues,
  type DashboardJson,
  type InfluxTarget,
  type PanelJson,
  targetsOf,
  type VariableJson,
  variablesOf,
} from './dashboards.ts';
import type { Series } from './influx-client.ts';
import { groupByTags, groupsByTime, selectedColumns } from './influxql.ts';
import {
  ALL,
  durationToMs,
  type InterpolationContext,
  interpolate,
  intervalMsFor,
  type TemplateVariable,
  type TimeRange,
} from './macros.ts';

/**
 * Runs a dashboard the way Grafana does, minus the drawing: resolves its template variables in
 * order (running their queries), then interpolates and runs every panel target (once per value
 * of a repeated panel) and every annotation query.
 */

/** Which values the variables take: as saved in the JSON, each one's first, or its second (multi: first two). */
export type Selection = 'as saved' | 'first value' | 'second value';

/** Grafana's default when a panel sets no maxDataPoints is its width in pixels; this stands in. */
export const MAX_DATA_POINTS = 1000;

export type RunQuery = (q: string) => Promise<Series[]>;

export interface QueryRun {
  kind: 'variable' | 'target' | 'annotation';
  /** e.g. `iot-fleet-overview panel 3 "Open anomaly episodes by severity" A [metric=temperature]` */
  where: string;
  /** As in the dashboard, and as sent to InfluxDB. */
  query: string;
  sent: string;
  intervalMs: number;
  series: Series[];
  /** Interpolation or InfluxDB refused the query. */
  error?: string;
  panel?: PanelJson;
  target?: InfluxTarget;
  columns?: string[];
}

/** `now-6h` -> [now - 6 h, now]. */
export function rangeOf(d: DashboardJson, now: number): TimeRange {
  const from = d.time?.from ?? 'now-6h';
  const m = /^now-(.+)$/.exec(from);
  if (!m || (d.time?.to ?? 'now') !== 'now') throw new Error(`unsupported time range ${from}`);
  return { from: now - durationToMs(m[1] as string), to: now };
}

function pick(v: VariableJson, options: string[], selection: Selection): string[] {
  if (selection === 'first value') return options.slice(0, 1);
  if (selection === 'second value')
    return v.multi ? options.slice(0, 2) : [options[1] ?? (options[0] as string)];
  const saved = currentValues(v);
  if (saved.length === 1 && saved[0] === ALL) return [ALL];
  if (saved.length > 0 && saved.every((s) => options.includes(s))) return saved;
  return options.slice(0, 1); // Grafana selects the first option when nothing valid is saved
}

export async function resolveVariables(
  d: DashboardJson,
  selection: Selection,
  range: TimeRange,
  run: RunQuery,
): Promise<{ variables: Map<string, TemplateVariable>; runs: QueryRun[] }> {
  const variables = new Map<string, TemplateVariable>();
  const runs: QueryRun[] = [];
  for (const v of variablesOf(d)) {
    let options: string[];
    if (v.type === 'query') {
      const r = await attempt(
        { kind: 'variable', where: `${d.uid} variable $${v.name}`, columns: ['key', 'value'] },
        String(v.query),
        { range, intervalMs: intervalMsFor(range, MAX_DATA_POINTS), variables },
        run,
      );
      runs.push(r);
      // Grafana's response parser takes the second column of SHOW TAG VALUES, deduplicated.
      options = [...new Set(r.series.flatMap((s) => s.values.map((row) => String(row[1]))))];
      options.sort();
    } else if (v.type === 'custom') {
      options = customValues(v);
    } else {
      throw new Error(`${d.uid}: variable type ${v.type} not supported here`);
    }
    // Without values the variable stays empty: queries using it fail, the others still run.
    variables.set(v.name, {
      name: v.name,
      current: options.length > 0 ? pick(v, options, selection) : [],
      options,
      multi: v.multi ?? false,
      includeAll: v.includeAll ?? false,
      allValue: v.allValue,
    });
  }
  return { variables, runs };
}

/** A repeated panel is drawn once per selected value, each with that single value. */
function repeatScopes(
  p: PanelJson,
  variables: Map<string, TemplateVariable>,
): { label: string; variables: Map<string, TemplateVariable> }[] {
  const v = p.repeat ? variables.get(p.repeat) : undefined;
  if (!v) return [{ label: '', variables }];
  const values = v.current[0] === ALL ? v.options : v.current;
  return values.map((value) => ({
    label: ` [${v.name}=${value}]`,
    variables: new Map(variables).set(v.name, { ...v, current: [value] }),
  }));
}

export async function runDashboard(
  d: DashboardJson,
  selection: Selection,
  now: number,
  run: RunQuery,
): Promise<QueryRun[]> {
  const range = rangeOf(d, now);
  const { variables, runs } = await resolveVariables(d, selection, range, run);
  for (const p of allPanels(d)) {
    if (p.type === 'row') continue;
    const intervalMs = intervalMsFor(range, p.maxDataPoints ?? MAX_DATA_POINTS, p.interval);
    for (const scope of repeatScopes(p, variables))
      for (const target of targetsOf(p)) {
        if (target.hide) continue;
        const where = `${d.uid} panel ${p.id} "${p.title}" ${target.refId}${scope.label}`;
        runs.push({
          ...(await attempt(
            { kind: 'target', where },
            target.query ?? '',
            {
              range,
              intervalMs,
              variables: scope.variables,
            },
            run,
          )),
          panel: p,
          target,
        });
      }
  }
  for (const a of annotationsOf(d)) {
    const t = a.target;
    const columns = [t?.titleColumn, t?.textColumn, t?.tagsColumn, t?.timeEndColumn].filter(
      (c): c is string => c !== undefined,
    );
    const where = `${d.uid} annotation "${a.name}"`;
    runs.push(
      await attempt(
        { kind: 'annotation', where, columns },
        t?.query ?? '',
        {
          range,
          intervalMs: intervalMsFor(range, MAX_DATA_POINTS),
          variables,
        },
        run,
      ),
    );
  }
  return runs;
}

/** Interpolates and runs one query; a failure is kept in the result, not thrown. */
async function attempt(
  what: Pick<QueryRun, 'kind' | 'where' | 'columns'>,
  query: string,
  ctx: InterpolationContext,
  run: RunQuery,
): Promise<QueryRun> {
  let sent = query;
  try {
    sent = interpolate(query, ctx);
    return { ...what, query, sent, intervalMs: ctx.intervalMs, series: await run(sent) };
  } catch (err) {
    const error = (err as Error).message;
    return { ...what, query, sent, intervalMs: ctx.intervalMs, series: [], error };
  }
}

/**
 * What is wrong with a result, judged from the query itself: no data; a column the query
 * selects (or an annotation maps) missing or null everywhere; a tag it groups by missing; time
 * buckets not on the panel's interval (so `$__interval` did not reach InfluxDB as Grafana
 * would send it).
 */
export function shapeProblems(r: QueryRun): string[] {
  if (r.error) return [r.error];
  const problems: string[] = [];
  const rows = r.series.reduce((n, s) => n + s.values.length, 0);
  if (r.series.length === 0 || rows === 0) return ['no data'];
  const isSelect = /^SELECT\s/i.test(r.query);
  const expected = r.columns ?? selectedColumns(r.query);
  for (const s of r.series) {
    if (isSelect && s.columns[0] !== 'time')
      problems.push(`first column ${s.columns[0]}, not time`);
    for (const c of expected)
      if (!s.columns.includes(c))
        problems.push(`column "${c}" missing (got ${s.columns.join(', ')})`);
    for (const tag of groupByTags(r.query))
      if (s.tags?.[tag] === undefined) problems.push(`series without tag "${tag}"`);
  }
  for (const c of expected) {
    const nonNull = r.series.some((s) => {
      const i = s.columns.indexOf(c);
      return i >= 0 && s.values.some((row) => row[i] !== null && row[i] !== undefined);
    });
    if (!nonNull) problems.push(`column "${c}" is null in every row`);
  }
  if (r.kind === 'target' && groupsByTime(r.query)) {
    const off = r.series
      .flatMap((s) => s.values)
      .find((row) => Number(row[0]) % r.intervalMs !== 0);
    if (off) problems.push(`bucket ${off[0]} is not on the ${r.intervalMs} ms interval`);
  }
  return [...new Set(problems)];
}

/** One number per series, keyed by its tags (`site=plant-a`), from the last row's column. */
export function lastValues(series: Series[], column: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of series) {
    const i = s.columns.indexOf(column);
    const row = s.values[s.values.length - 1];
    const key = Object.entries(s.tags ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    if (i >= 0 && row) out[key] = Number(row[i]);
  }
  return out;
}
